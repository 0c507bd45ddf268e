// An operator starting a second relay on taken ports gets one line saying which address is taken
// and which flags pick others, not libp2p's stack trace; one pointing --static-dir at a directory
// without a built app is told so at start (pages would answer 404).
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../relay/config.js';
import { describeAddressInUse } from '../../relay/errors.js';
import { startRelay } from '../../relay/server.js';
import { spawnRelay, type RelayProcess } from '../helpers/relay-process.js';
import { pollUntil } from '../helpers/poll.js';

async function taken(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

async function startError(ports: { port: number; relayPort: number }): Promise<unknown> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tabula-relay-inuse-'));
  const config = { ...DEFAULTS, ...ports, dataDir, staticDir: dataDir };
  try {
    const r = await startRelay(config);
    await r.stop();
  } catch (e) {
    return e;
  }
  throw new Error('the relay started on a taken port');
}

describe('relay start on a taken address', () => {
  it('names the taken libp2p address and the flags', async () => {
    const t = await taken();
    try {
      const err = await startError({ port: 0, relayPort: t.port });
      const text = describeAddressInUse(err, { port: 8080, relayPort: t.port });
      expect(text).toBe(
        `Cannot start: 127.0.0.1:${t.port} is already in use (another relay, or another program). ` +
          `Choose free ports with --port (HTTP, now 8080) and --relay-port (libp2p, now ${t.port}).`
      );
    } finally {
      t.server.close();
    }
  });

  it('names the taken HTTP address', async () => {
    const t = await taken();
    try {
      const err = await startError({ port: t.port, relayPort: 0 });
      expect(describeAddressInUse(err, { port: t.port, relayPort: 9090 })).toContain(
        `127.0.0.1:${t.port} is already in use`
      );
    } finally {
      t.server.close();
    }
  });

  it('says nothing about other errors', () => {
    expect(
      describeAddressInUse(new Error('boom', { cause: new TypeError('x') }), { port: 1, relayPort: 2 })
    ).toBeUndefined();
    const looped: { message: string; cause?: unknown } = { message: 'a' };
    looped.cause = looped;
    expect(describeAddressInUse(looped, { port: 1, relayPort: 2 })).toBeUndefined();
  });
});

describe('relay start without a built app', () => {
  const started: RelayProcess[] = [];
  afterEach(async () => {
    for (const r of started.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      await r.exited;
    }
  });

  const start = async (withIndex: boolean): Promise<RelayProcess> => {
    const dir = await mkdtemp(join(tmpdir(), 'tabula-relay-static-'));
    if (withIndex) await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    const r = await spawnRelay(['--data-dir', dir, '--static-dir', dir]);
    started.push(r);
    return r;
  };

  it('warns when --static-dir has no index.html, and not when it has one', async () => {
    const bare = await start(false);
    await pollUntil(() => bare.output().includes('warning: no built app'), 'the warning', 10_000, 20);
    expect(bare.output()).toMatch(/warning: no built app in \S+ \(index\.html is missing\): pages answer 404\./);
    expect(bare.output()).toContain('npx vite build');

    const built = await start(true);
    expect((await fetch(`${built.url}/`)).status).toBe(200);
    expect(built.output()).not.toContain('warning: no built app');
  }, 60_000);
});
