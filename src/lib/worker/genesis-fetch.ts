// Which network the node joins. The page is opened for a network id (`?network=`, the build's
// VITE_TABULA_NETWORK, else the bundled network); the site's relay serves its genesis at
// /api/genesis. The served genesis must hash to that id, or the node refuses to start. A custom
// network's genesis is saved in its store, so the node also starts while the site is unreachable.
import { MAX_GENESIS_DOCUMENT_BYTES } from '../core/constants.js';
import {
  checkGenesisIs,
  decodeGenesisDocument,
  defaultSignedGenesis,
  genesisDocument,
  parseNetworkId,
  type SignedGenesis
} from '../core/genesis-document.js';
import type { LedgerStore } from '../core/storage.js';

/** How long the node waits for /api/genesis before starting from its saved (or bundled) genesis, ms. */
export const GENESIS_FETCH_TIMEOUT_MS = 5_000;
/** Store meta key of the saved genesis document (JSON text). */
export const GENESIS_META = 'genesisDocument';

/** The node was opened for a network the site does not serve, and whose genesis it has never saved. */
export class GenesisUnavailableError extends Error {
  override name = 'GenesisUnavailableError';
  readonly code = 'genesis-unavailable';
}

/** Reads at most `max` bytes of the body; throws when there are more. */
async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new RangeError(`/api/genesis answer larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * GET `<origin>/api/genesis`: the verified genesis, or undefined when the site does not answer
 * (offline, timeout, error status, no genesis endpoint). A document that fails verification
 * throws (InvalidGenesisError, GenesisSignatureError): a site serving a bad genesis is refused.
 */
export async function fetchGenesis(
  origin: string,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = GENESIS_FETCH_TIMEOUT_MS
): Promise<SignedGenesis | undefined> {
  let bytes: Uint8Array;
  try {
    const res = await fetchImpl(new URL('/api/genesis', origin), {
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs)
    });
    if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('application/json')) return undefined;
    bytes = await readCapped(res, MAX_GENESIS_DOCUMENT_BYTES);
  } catch (err) {
    if ((err as Error).name === 'RangeError') throw err;
    return undefined;
  }
  return decodeGenesisDocument(bytes);
}

/** The network id the node was opened for (hex): the pin, else the bundled network's. */
export function expectedNetworkId(pin: string | undefined): string {
  return pin === undefined ? defaultSignedGenesis().networkId : parseNetworkId(pin);
}

/**
 * The genesis of network `expectedId` from what the site served (`served`, undefined when it
 * did not answer), else the bundled network, else the copy saved in `store`. Throws
 * GenesisMismatchError when the site serves another network, GenesisUnavailableError when
 * nothing is available. Saves a served custom genesis in `store`.
 */
export async function settleGenesis(
  expectedId: string,
  served: SignedGenesis | undefined,
  store: Pick<LedgerStore, 'getMeta' | 'setMeta'>
): Promise<SignedGenesis> {
  const bundled = defaultSignedGenesis();
  if (served !== undefined) {
    checkGenesisIs(served, expectedId);
    if (served.networkId !== bundled.networkId)
      await store.setMeta(GENESIS_META, JSON.stringify(genesisDocument(served)));
    return served;
  }
  if (expectedId === bundled.networkId) return bundled;
  const saved = await store.getMeta(GENESIS_META);
  if (typeof saved === 'string') {
    const signed = await decodeGenesisDocument(saved);
    checkGenesisIs(signed, expectedId, 'the saved genesis');
    return signed;
  }
  throw new GenesisUnavailableError(
    `the site did not serve the genesis of network ${expectedId}, and this browser has not saved it; ` +
      'reload once the site is reachable'
  );
}
