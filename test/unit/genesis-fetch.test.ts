import { describe, expect, it } from 'vitest';
import { expectedNetworkId, fetchGenesis, GENESIS_META, settleGenesis } from '../../src/lib/worker/genesis-fetch.js';
import { networkPin, networkScopedName } from '../../src/lib/client/network-pin.js';
import { createSignedGenesis, defaultSignedGenesis, genesisDocument } from '../../src/lib/core/genesis-document.js';
import { generateKeys } from '../../src/lib/core/ed25519.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { MAX_GENESIS_DOCUMENT_BYTES } from '../../src/lib/core/constants.js';

const BUNDLED = defaultSignedGenesis().networkId;

async function custom(name = 'shop') {
  const op = await generateKeys();
  return createSignedGenesis(
    { v: 1, name, createdAt: 1_760_000_000_000, maxEntryBytes: 65536, operators: [toHex(op.publicKey)] },
    [op.seed]
  );
}

function memoryMeta() {
  const meta = new Map<string, unknown>();
  return {
    meta,
    getMeta: async (k: string) => meta.get(k),
    setMeta: async (k: string, v: unknown) => void meta.set(k, v)
  };
}

const json = (body: string, status = 200, type = 'application/json'): typeof fetch =>
  (async () => new Response(body, { status, headers: { 'content-type': type } })) as typeof fetch;

async function errorName(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (e: Error) => e.name
  );
}

describe('fetchGenesis', () => {
  it('returns the verified document, or undefined when the site gives none', async () => {
    const net = await custom();
    const served = await fetchGenesis('http://site', json(JSON.stringify(genesisDocument(net))));
    expect(served?.networkId).toBe(net.networkId);
    expect(await fetchGenesis('http://site', json('{}', 404))).toBeUndefined();
    expect(await fetchGenesis('http://site', json('<html>', 200, 'text/html'))).toBeUndefined();
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    expect(await fetchGenesis('http://site', offline)).toBeUndefined();
  });

  it('refuses a tampered or oversized document', async () => {
    const doc = genesisDocument(await custom());
    const tampered = JSON.stringify({ ...doc, genesis: { ...doc.genesis, name: 'other' } });
    expect(await errorName(fetchGenesis('http://site', json(tampered)))).toBe('InvalidGenesisError');
    const huge = 'x'.repeat(MAX_GENESIS_DOCUMENT_BYTES + 1);
    expect(await errorName(fetchGenesis('http://site', json(huge)))).toBe('RangeError');
  });
});

describe('settleGenesis', () => {
  it('accepts the served genesis of the expected network and saves a custom one', async () => {
    const net = await custom();
    const store = memoryMeta();
    expect((await settleGenesis(net.networkId, net, store)).networkId).toBe(net.networkId);
    expect(typeof store.meta.get(GENESIS_META)).toBe('string');
    // Later, with the site unreachable, the saved copy is used.
    expect((await settleGenesis(net.networkId, undefined, store)).genesis.name).toBe('shop');
  });

  it('refuses a site that serves another network, in both directions', async () => {
    const net = await custom();
    expect(await errorName(settleGenesis(BUNDLED, net, memoryMeta()))).toBe('GenesisMismatchError');
    expect(await errorName(settleGenesis(net.networkId, defaultSignedGenesis(), memoryMeta()))).toBe(
      'GenesisMismatchError'
    );
  });

  it('falls back to the bundled network when unpinned, and fails clearly for an unknown pinned one', async () => {
    expect((await settleGenesis(BUNDLED, undefined, memoryMeta())).networkId).toBe(BUNDLED);
    const net = await custom();
    expect(await errorName(settleGenesis(net.networkId, undefined, memoryMeta()))).toBe('GenesisUnavailableError');
  });

  it('never uses a saved genesis of another network', async () => {
    const a = await custom('a');
    const b = await custom('b');
    const store = memoryMeta();
    await settleGenesis(a.networkId, a, store);
    expect(await errorName(settleGenesis(b.networkId, undefined, store))).toBe('GenesisMismatchError');
  });
});

describe('network pin', () => {
  it('takes ?network= first, then the build pin, else none', () => {
    expect(networkPin('?network=abc', 'def')).toBe('abc');
    expect(networkPin('?relays=1', 'def')).toBe('def');
    expect(networkPin('?network=', ' ')).toBeUndefined();
    expect(networkPin('', undefined)).toBeUndefined();
  });

  it('expectedNetworkId validates the pin; unpinned is the bundled network', async () => {
    expect(expectedNetworkId(undefined)).toBe(BUNDLED);
    expect(() => expectedNetworkId('nope')).toThrow(expect.objectContaining({ name: 'InvalidNetworkIdError' }));
  });

  it('scopes tab and lock names per network, keeping the bundled network names', () => {
    expect(networkScopedName('tabula-node', undefined)).toBe('tabula-node');
    expect(networkScopedName('tabula-node', BUNDLED.toUpperCase())).toBe('tabula-node');
    expect(networkScopedName('tabula-node', 'AB'.repeat(32))).toBe(`tabula-node:${'ab'.repeat(32)}`);
  });
});
