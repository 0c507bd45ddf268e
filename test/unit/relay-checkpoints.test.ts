// Operator checkpoints produced by relay --archive (relay/archive/checkpoints.ts, PROTOCOL.md
// §13.7): an archive whose data dir holds the genesis operator's key signs a checkpoint of the
// state it serves, periodically and with every join claim; a joiner over libp2p is verified by it
// alone. An archive without the key, or with another key, signs none.
import { spawnSync } from 'node:child_process';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromHex } from '../../src/lib/core/bytes.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { shortNetworkId } from '../../src/lib/core/topics.js';
import type { Genesis } from '../../src/lib/core/types.js';
import {
  JOIN_PROTOCOL_ID,
  Joiner,
  checkpointHolds,
  installJoinSnapshot,
  operatorKeys,
  type JoinVerdict
} from '../../src/lib/core/join/index.js';
import { JoinStreamClient } from '../../src/lib/platform/join-protocol.js';
import { DEFAULTS, parseConfig } from '../../relay/config.js';
import { startRelay, type RunningRelay } from '../../relay/server.js';
import { createNetwork } from '../../relay/network-genesis.js';
import { GENESIS_FILE, OPERATOR_KEY_FILE } from '../../relay/network-genesis.js';
import { relayAddr, tempDir } from '../helpers/relay-fixture.js';
import { missingTools } from '../helpers/cli-tools.js';
import { createRelayClient, dialRelay, waitFor } from '../helpers/relay-client.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';

const running: Array<{ stop(): void | Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function archiveRelay(dataDir: string, checkpointSeconds = 1): Promise<RunningRelay> {
  const r = await startRelay({
    ...DEFAULTS,
    port: 0,
    relayPort: 0,
    dataDir,
    staticDir: dataDir,
    archive: true,
    checkpointSeconds
  });
  running.push(r);
  return r;
}

/** A writer on `genesis` with `n` records, and its entries ingested by the relay's archive. */
async function fill(relay: RunningRelay, genesis: Genesis, n: number): Promise<TestLedger> {
  const w = await openLedger(memoryLocation(), 60, { genesis });
  for (let i = 0; i < n; i++) await w.ledger.put(`k${i}`, { i, pad: 'x'.repeat(100) });
  await relay.archive!.ledger.ingest(w.log.map((h) => encodeEntry(h.entry)));
  return w;
}

/** A fresh ledger on `genesis` joins through the relay over libp2p; resolves to its install verdict. */
async function joinThrough(relay: RunningRelay, genesis: Genesis): Promise<{ verdict: JoinVerdict; tl: TestLedger }> {
  const tl = await openLedger(memoryLocation(), 61, { genesis });
  const node = await createRelayClient({ reserve: false });
  running.push(node);
  const protocol = JOIN_PROTOCOL_ID(shortNetworkId(tl.ledger.networkIdHex));
  const ref: { joiner?: Joiner } = {};
  const client = new JoinStreamClient(node, protocol, (peer, bytes) => ref.joiner!.receive(peer, bytes));
  const verdicts: JoinVerdict[] = [];
  const joiner = (ref.joiner = new Joiner({
    networkId: tl.ledger.networkId,
    genesis,
    operators: operatorKeys(genesis.operators),
    send: (peer, bytes) => client.send(peer, bytes),
    now: Date.now,
    randomBytes: (k) => crypto.getRandomValues(new Uint8Array(k)),
    install: async (snap, verdict) => {
      verdicts.push(verdict);
      await installJoinSnapshot(tl.ledger, snap, verdict);
    }
  }));
  await dialRelay(node, relayAddr(relay));
  joiner.addPeer(relay.node.peerId.toString());
  const timer = setInterval(() => joiner.tick(), 100);
  try {
    joiner.start();
    await vi.waitFor(() => expect(verdicts.length).toBe(1), { timeout: 20_000, interval: 50 });
  } finally {
    clearInterval(timer);
    client.closeAll();
  }
  return { verdict: verdicts[0], tl };
}

describe('relay --archive operator checkpoints', () => {
  it('the operator archive signs checkpoints that verify with the genesis operator key; a joiner is verified by one alone', async () => {
    const dir = await tempDir();
    const net = await createNetwork({ dataDir: dir, name: 'ckpt', maxEntryBytes: 65_536, operators: [], createdAt: 1 });
    const genesis = net.signed.genesis;
    const relay = await archiveRelay(dir);
    const w = await fill(relay, genesis, 25);
    const status = () => relay.archive!.status().checkpoints!;
    expect(status()).toMatchObject({ role: 'operator', signer: net.operator });
    await waitFor(() => status().latest?.entries === 25, 'a periodic checkpoint of 25 entries', 10_000);
    const latest = status().latest!;
    expect(latest.headsRoot).toBe(headsRoot(w.ledger.heads()));
    expect(latest.stateDigest).toBe(w.ledger.stats().stateDigest);
    const ops = operatorKeys(genesis.operators);
    const cp = { ...latest, sig: fromHex(latest.sig) };
    const id = fromHex(net.signed.networkId);
    expect(await checkpointHolds(id, cp, ops)).toBe(true);
    expect(await checkpointHolds(id, { ...cp, entries: 24 }, ops)).toBe(false);

    // On demand: the same state reuses the checkpoint (no new signature).
    expect((await relay.archive!.checkpointNow())?.time).toBe(latest.time);
    const api = (await (await fetch(`${relay.url}/api/archive`)).json()) as { checkpoints: { signed: number } };
    expect(api.checkpoints.signed).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(/^tabula_archive_checkpoint_operator 1$/m);
    expect(metrics).toMatch(/^tabula_archive_checkpoint_entries 25$/m);
    expect(Number(/^tabula_archive_checkpoints_signed_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^tabula_archive_checkpoint_timestamp_seconds (\S+)$/m.exec(metrics)?.[1])).toBe(latest.time / 1000);
    if (missingTools(['promtool']).length === 0) {
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
    }

    // A single peer (the archive) would only give an unverified join: its checkpoint verifies it.
    const { verdict, tl } = await joinThrough(relay, genesis);
    expect(verdict).toMatchObject({ verified: true, by: 'checkpoint', asked: 1 });
    expect(verdict.checkpoint!.signer).toBe(net.operator);
    expect(tl.ledger.records()).toEqual(w.ledger.records());
    expect(tl.ledger.stats().unverified).toBe(false);
  }, 60_000);

  it('an archive without the operator key, or with a key the genesis does not list, produces none', async () => {
    const opDir = await tempDir();
    const net = await createNetwork({
      dataDir: opDir,
      name: 'ckpt2',
      maxEntryBytes: 65_536,
      operators: [],
      createdAt: 1
    });
    const genesis = net.signed.genesis;

    // The same network on a second data dir, genesis.json only.
    const plain = await tempDir();
    await copyFile(join(opDir, GENESIS_FILE), join(plain, GENESIS_FILE));
    const relay = await archiveRelay(plain);
    await fill(relay, genesis, 5);
    expect(relay.archive!.status().checkpoints).toMatchObject({ role: 'no-operator-key', signer: null, signed: 0 });
    expect(await relay.archive!.checkpointNow()).toBeUndefined();
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(/^tabula_archive_checkpoint_operator 0$/m);
    const { verdict } = await joinThrough(relay, genesis);
    expect(verdict).toMatchObject({ verified: false, by: 'few-peers', checkpoint: null });
    await relay.stop();

    // A key of its own that is not a genesis operator: still none.
    const stranger = await tempDir();
    await copyFile(join(opDir, GENESIS_FILE), join(stranger, GENESIS_FILE));
    await writeFile(join(stranger, OPERATOR_KEY_FILE), new Uint8Array(32).fill(7), { mode: 0o600 });
    const r2 = await archiveRelay(stranger);
    await fill(r2, genesis, 3);
    expect(r2.archive!.status().checkpoints).toMatchObject({ role: 'not-an-operator', signer: null });
    expect(await r2.archive!.checkpointNow()).toBeUndefined();
    await r2.stop();

    // A malformed key file stops the archive from starting.
    await writeFile(join(stranger, OPERATOR_KEY_FILE), new Uint8Array(5));
    await expect(archiveRelay(stranger)).rejects.toMatchObject({ name: 'OperatorKeyError' });
  }, 60_000);

  it('--checkpoint-seconds / TABULA_CHECKPOINT_SECONDS set the period (0 = on demand only)', () => {
    expect(parseConfig([], {}).checkpointSeconds).toBe(60);
    expect(parseConfig(['--checkpoint-seconds', '0'], {}).checkpointSeconds).toBe(0);
    expect(parseConfig([], { TABULA_CHECKPOINT_SECONDS: '300' }).checkpointSeconds).toBe(300);
    expect(() => parseConfig(['--checkpoint-seconds', '-1'], {})).toThrow(/0\.\.86400/);
  });
});
