// An operator starting a second relay on taken ports gets one line saying which address is taken
// and which flags pick others, not libp2p's stack trace.
import { describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../relay/config.js';
import { describeAddressInUse } from '../../relay/errors.js';
import { startRelay } from '../../relay/server.js';

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
