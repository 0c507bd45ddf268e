import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, type RelayConfig } from '../../relay/config.js';
import { startRelay, type RunningRelay } from '../../relay/server.js';
import { runGenesisCommand } from '../../relay/genesis-cli.js';
import { runBackupCommand } from '../../relay/archive/cli.js';
import { GENESIS_FILE, OPERATOR_KEY_FILE } from '../../relay/network-genesis.js';
import { decodeGenesisDocument, defaultSignedGenesis } from '../../src/lib/core/genesis-document.js';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';
import { toHex } from '../../src/lib/core/bytes.js';

const OTHER_OPERATOR = 'ab'.repeat(32);
const relays: RunningRelay[] = [];

afterAll(async () => {
  for (const r of relays) await r.stop();
});

function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tabula-genesis-test-'));
}

async function start(dataDir: string, archive = false): Promise<RunningRelay> {
  const config: RelayConfig = {
    ...DEFAULTS,
    port: 0,
    relayPort: 0,
    dataDir,
    staticDir: join(dataDir, 'no-site'),
    archive
  };
  const r = await startRelay(config);
  relays.push(r);
  return r;
}

async function errorName(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (e: Error) => e.name
  );
}

describe('relay genesis command', () => {
  it('creates a signed genesis and a private operator key (mode 0600), and refuses to overwrite it', async () => {
    const dir = await tempDir();
    const created = await runGenesisCommand(
      ['--name', 'acme', '--data-dir', dir, '--max-entry-bytes', '32768', '--operator', OTHER_OPERATOR],
      {},
      1_760_000_000_000
    );
    const seed = new Uint8Array(await readFile(join(dir, OPERATOR_KEY_FILE)));
    expect(seed).toHaveLength(32);
    expect((await stat(join(dir, OPERATOR_KEY_FILE))).mode & 0o777).toBe(0o600);
    const own = toHex(await publicKeyFromSeed(seed));
    expect(created.operator).toBe(own);

    const doc = await decodeGenesisDocument(await readFile(join(dir, GENESIS_FILE), 'utf8'));
    expect(doc.networkId).toBe(created.signed.networkId);
    expect(doc.genesis).toEqual({
      v: 1,
      name: 'acme',
      createdAt: 1_760_000_000_000,
      maxEntryBytes: 32768,
      operators: [own, OTHER_OPERATOR].sort()
    });
    expect(doc.signatures.map((s) => s.key)).toEqual([own]);
    expect(doc.networkId).not.toBe(defaultSignedGenesis().networkId);
    // The file holds no private key material.
    expect(await readFile(join(dir, GENESIS_FILE), 'utf8')).not.toContain(toHex(seed));

    expect(await errorName(runGenesisCommand(['--name', 'again', '--data-dir', dir], {}))).toBe('NetworkExistsError');
  });

  it('refuses bad flags and parameters the core refuses', async () => {
    const dir = await tempDir();
    const run = (args: string[]) => errorName(runGenesisCommand([...args, '--data-dir', dir], {}));
    expect(await run([])).toBe('GenesisUsageError');
    expect(await run(['--name', 'x', '--operator', 'abc'])).toBe('GenesisUsageError');
    expect(await run(['--name', 'x', '--max-entry-bytes', 'lots'])).toBe('GenesisUsageError');
    expect(await run(['--name', 'x', '--bogus', '1'])).toBe('GenesisUsageError');
    expect(await run(['--name', 'x', '--max-entry-bytes', '10'])).toBe('InvalidGenesisError');
    expect(await run(['--name', 'x'.repeat(65)])).toBe('InvalidGenesisError');
  });

  it('the CLI entry point runs it (tsx relay/main.ts genesis)', async () => {
    const dir = await tempDir();
    const out = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'relay/main.ts', 'genesis', '--name', 'cli-net', '--data-dir', dir],
      {
        encoding: 'utf8',
        timeout: 30_000
      }
    );
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const doc = await decodeGenesisDocument(await readFile(join(dir, GENESIS_FILE), 'utf8'));
    expect(out.stdout).toContain(`network id       ${doc.networkId}`);
    expect(out.stdout).toContain(`?network=${doc.networkId}`);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'relay/main.ts', 'genesis', '--data-dir', dir], {
      encoding: 'utf8',
      timeout: 30_000
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--name is required');
  }, 60_000);
});

describe('relay /api/genesis', () => {
  it('serves the created network; the relay runs on it; the key is never served', async () => {
    const dir = await tempDir();
    const created = await runGenesisCommand(['--name', 'served', '--data-dir', dir], {});
    const r = await start(dir);
    expect(r.networkId).toBe(created.signed.networkId);
    expect(r.networkName).toBe('served');
    const res = await fetch(`${r.url}/api/genesis`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const served = await decodeGenesisDocument(await res.text());
    expect(served.networkId).toBe(created.signed.networkId);
    expect(served.genesis.name).toBe('served');
    // The gossip topics carry the created network's id.
    expect(r.node.services.pubsub.getTopics().some((t) => t.includes(created.signed.networkId.slice(0, 16)))).toBe(
      true
    );
    for (const path of [`/${OPERATOR_KEY_FILE}`, `/../${OPERATOR_KEY_FILE}`, '/api/operator.key'])
      expect((await fetch(`${r.url}${path}`)).status).toBeGreaterThanOrEqual(400);
  }, 30_000);

  it('a relay without a created genesis serves the bundled network', async () => {
    const r = await start(await tempDir());
    const served = await decodeGenesisDocument(await (await fetch(`${r.url}/api/genesis`)).text());
    expect(served.networkId).toBe(defaultSignedGenesis().networkId);
    expect(r.networkId).toBe(defaultSignedGenesis().networkId);
    expect(r.networkName).toBeUndefined();
  }, 30_000);

  it('a tampered genesis.json stops the relay from starting', async () => {
    const dir = await tempDir();
    await runGenesisCommand(['--name', 'tampered', '--data-dir', dir], {});
    const doc = JSON.parse(await readFile(join(dir, GENESIS_FILE), 'utf8')) as { genesis: { name: string } };
    doc.genesis.name = 'renamed';
    await writeFile(join(dir, GENESIS_FILE), JSON.stringify(doc));
    expect(await errorName(start(dir))).toBe('NetworkGenesisError');
  }, 30_000);

  it('the archive and its backups run on the created network, never on the bundled one', async () => {
    const dir = await tempDir();
    const created = await runGenesisCommand(['--name', 'archived', '--data-dir', dir], {});
    const r = await start(dir, true);
    expect(r.archive).toBeDefined();
    await r.stop();
    // The backup command reads the same genesis: the archive's stored network id matches.
    const out = join(dir, 'backup.snapshot.gz');
    expect(await runBackupCommand(['export', '--data-dir', dir, '--out', out], {})).toMatchObject({ entries: 0 });
    // Without genesis.json the data dir means the bundled network, which the archive is not.
    await rename(join(dir, GENESIS_FILE), join(dir, 'genesis.json.off'));
    expect(await errorName(runBackupCommand(['export', '--data-dir', dir, '--out', out], {}))).toBe(
      'CorruptStoreError'
    );
    expect(await errorName(start(dir, true))).toBe('CorruptStoreError');
    await rename(join(dir, 'genesis.json.off'), join(dir, GENESIS_FILE));
    expect((await start(dir, true)).networkId).toBe(created.signed.networkId);
  }, 60_000);
});
