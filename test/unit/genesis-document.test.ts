import { describe, expect, it } from 'vitest';
import {
  checkGenesisIs,
  createSignedGenesis,
  decodeGenesisDocument,
  defaultSignedGenesis,
  genesisDocument,
  genesisSigningBytes,
  parseNetworkId,
  verifySignedGenesis
} from '../../src/lib/core/genesis-document.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { generateKeys, sign } from '../../src/lib/core/ed25519.js';
import { fromHex, toHex } from '../../src/lib/core/bytes.js';
import { toBase64 } from '../../src/lib/core/snapshot/base64.js';
import { MAX_GENESIS_DOCUMENT_BYTES } from '../../src/lib/core/constants.js';
import type { Genesis } from '../../src/lib/core/types.js';

async function rejects(p: Promise<unknown> | (() => unknown), name: string, msg?: RegExp): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect((e as Error).name).toBe(name);
    if (msg) expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error(`expected ${name}`);
}

async function network(extraOperators: string[] = []) {
  const op = await generateKeys();
  const g: Genesis = {
    v: 1,
    name: 'acme-prod',
    createdAt: 1_760_000_000_000,
    maxEntryBytes: 32_768,
    operators: [toHex(op.publicKey), ...extraOperators]
  };
  return { op, g, signed: await createSignedGenesis(g, [op.seed]) };
}

describe('signed genesis', () => {
  it('creates, signs and verifies; the network id is SHA-256 of the genesis encoding alone', async () => {
    const other = toHex((await generateKeys()).publicKey);
    const { op, g, signed } = await network([other]);
    expect(signed.networkId).toBe(toHex(networkId(g)));
    expect(signed.signatures).toHaveLength(1);
    expect(signed.signatures[0].key).toBe(toHex(op.publicKey));
    expect(signed.genesis.operators).toEqual([toHex(op.publicKey), other].sort());
    const again = await verifySignedGenesis(signed.bytes, signed.signatures);
    expect(again.networkId).toBe(signed.networkId);
  });

  it('the bundled network keeps its id and carries no signature', async () => {
    const d = defaultSignedGenesis();
    expect(d.networkId).toBe('2c542ef7299701f03fc293708298f149d39f2d8a725a575ffb2e438c53e24da5');
    expect(d.genesis).toEqual(defaultGenesis());
    expect((await decodeGenesisDocument(JSON.stringify(genesisDocument(d)))).networkId).toBe(d.networkId);
  });

  it('refuses a signer that is not an operator, and an operator genesis without a signature', async () => {
    const { g, signed } = await network();
    const stranger = await generateKeys();
    await rejects(createSignedGenesis(g, [stranger.seed]), 'GenesisSignatureError', /not a genesis operator/);
    await rejects(verifySignedGenesis(signed.bytes, []), 'GenesisSignatureError', /must be signed/);
    const forged = {
      key: toHex(stranger.publicKey),
      sig: toHex(await sign(stranger.seed, genesisSigningBytes(signed.bytes)))
    };
    await rejects(verifySignedGenesis(signed.bytes, [forged]), 'GenesisSignatureError', /not a genesis operator/);
    await rejects(
      verifySignedGenesis(signed.bytes, [signed.signatures[0], signed.signatures[0]]),
      'GenesisSignatureError',
      /two signatures/
    );
    const d = defaultSignedGenesis();
    await rejects(verifySignedGenesis(d.bytes, [forged]), 'GenesisSignatureError', /without operators/);
  });

  it('a signature over other bytes (another tag, another genesis) does not verify', async () => {
    const { op, signed } = await network();
    const key = toHex(op.publicKey);
    const untagged = toHex(await sign(op.seed, signed.bytes));
    await rejects(
      verifySignedGenesis(signed.bytes, [{ key, sig: untagged }]),
      'GenesisSignatureError',
      /does not verify/
    );
  });
});

describe('genesis document (what /api/genesis serves)', () => {
  it('round-trips through JSON', async () => {
    const { signed } = await network();
    const text = JSON.stringify(genesisDocument(signed));
    const back = await decodeGenesisDocument(text);
    expect(back.networkId).toBe(signed.networkId);
    expect(back.signatures).toEqual(signed.signatures);
    expect(toHex(back.bytes)).toBe(toHex(signed.bytes));
    expect((await decodeGenesisDocument(new TextEncoder().encode(text))).networkId).toBe(signed.networkId);
  });

  it('refuses a document larger than the bound before parsing it', async () => {
    const { signed } = await network();
    const doc = { ...genesisDocument(signed), padding: 'x'.repeat(MAX_GENESIS_DOCUMENT_BYTES) };
    await rejects(decodeGenesisDocument(JSON.stringify(doc)), 'InvalidGenesisError', /larger than/);
    // Not even JSON: refused on size alone, never parsed.
    await rejects(
      decodeGenesisDocument('{'.repeat(MAX_GENESIS_DOCUMENT_BYTES + 1)),
      'InvalidGenesisError',
      /larger than/
    );
    await rejects(
      decodeGenesisDocument(JSON.stringify(genesisDocument(signed)), 100),
      'InvalidGenesisError',
      /larger than/
    );
  });

  it('refuses tampered documents', async () => {
    const { signed, g } = await network();
    const doc = genesisDocument(signed);
    const tamper = (patch: object): string => JSON.stringify({ ...doc, ...patch });
    // Bytes of another genesis (bigger entries), keeping the old signature: the signature fails.
    const bigger = await createSignedGenesis(g, []).catch(() => undefined);
    expect(bigger).toBeUndefined(); // operators listed, no signer: refused at creation too
    const otherBytes = (await network()).signed.bytes;
    await rejects(decodeGenesisDocument(tamper({ genesisBytes: toBase64(otherBytes) })), 'GenesisSignatureError');
    // The JSON says something else than the signed bytes.
    await rejects(
      decodeGenesisDocument(tamper({ genesis: { ...doc.genesis, maxEntryBytes: 1_048_576 } })),
      'InvalidGenesisError',
      /differs/
    );
    await rejects(decodeGenesisDocument(tamper({ networkId: '00'.repeat(32) })), 'InvalidGenesisError', /networkId/);
    // One flipped bit in the signature.
    const sig = fromHex(doc.signatures[0].sig);
    sig[10] ^= 1;
    await rejects(
      decodeGenesisDocument(tamper({ signatures: [{ key: doc.signatures[0].key, sig: toHex(sig) }] })),
      'GenesisSignatureError',
      /does not verify/
    );
    await rejects(decodeGenesisDocument(tamper({ signatures: [] })), 'GenesisSignatureError');
    await rejects(decodeGenesisDocument(tamper({ format: 'other' })), 'InvalidGenesisError', /not a tabula-genesis/);
    await rejects(decodeGenesisDocument(tamper({ v: 2 })), 'InvalidGenesisError', /version/);
    await rejects(decodeGenesisDocument(tamper({ genesisBytes: '!!!!' })), 'InvalidGenesisError', /base64/);
    await rejects(decodeGenesisDocument('[]'), 'InvalidGenesisError', /object/);
    await rejects(decodeGenesisDocument('not json'), 'InvalidGenesisError', /not JSON/);
    const { genesisBytes: _drop, ...without } = doc;
    void _drop;
    await rejects(decodeGenesisDocument(JSON.stringify(without)), 'InvalidGenesisError', /lacks "genesisBytes"/);
  });
});

describe('network pin', () => {
  it('parses 64 hex digits, case-insensitively, and refuses anything else', async () => {
    const id = defaultSignedGenesis().networkId;
    expect(parseNetworkId(id.toUpperCase())).toBe(id);
    await rejects(() => parseNetworkId('abc'), 'InvalidNetworkIdError', /64 hex digits/);
    await rejects(() => parseNetworkId(`${id}00`), 'InvalidNetworkIdError');
    await rejects(() => parseNetworkId('g'.repeat(64)), 'InvalidNetworkIdError');
  });

  it('checkGenesisIs accepts the expected network and names both ids otherwise', async () => {
    const { signed } = await network();
    expect(() => checkGenesisIs(signed, signed.networkId)).not.toThrow();
    const expected = defaultSignedGenesis().networkId;
    await rejects(
      () => checkGenesisIs(signed, expected),
      'GenesisMismatchError',
      new RegExp(`"acme-prod" \\(${signed.networkId}\\).*opened for network ${expected}`)
    );
  });
});
