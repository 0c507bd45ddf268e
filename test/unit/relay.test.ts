import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { ConfigError, DEFAULTS, parseConfig, type RelayConfig } from '../../relay/config.js';
import { startRelay, type RunningRelay } from '../../relay/server.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tabula-relay-test-'));
}

async function config(dataDir: string, staticDir: string): Promise<RelayConfig> {
  return { ...DEFAULTS, port: 0, relayPort: 0, dataDir, staticDir };
}

/** A raw GET, so paths like /../x reach the server unnormalised. */
function rawGet(url: string, path: string): Promise<{ status: number; body: string; type: string | undefined }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('relay config', () => {
  it('uses the documented defaults', () => {
    const c = parseConfig([], {});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, relayPort: 9090 });
  });

  it('reads environment variables and lets flags override them', () => {
    const c = parseConfig(['--port', '81', '--relay-port=92'], { PORT: '80', RELAY_PORT: '91', HOST: '127.0.0.2' });
    expect(c).toMatchObject({ host: '127.0.0.2', port: 81, relayPort: 92 });
  });

  it('reads every limit from a flag or its environment variable, within bounds', () => {
    const c = parseConfig(
      [
        '--max-reservations-per-ip=3',
        '--max-connections',
        '50',
        '--max-connections-per-ip=5',
        '--gossip-max-frame-bytes=100000',
        '--http-max-connections=9'
      ],
      { TABULA_GOSSIP_RATE: '40', TABULA_MAX_CONNECTIONS: '70', TABULA_MAX_RESERVATIONS: '7' }
    );
    expect(c).toMatchObject({
      maxReservations: 7,
      maxReservationsPerIp: 3,
      maxConnections: 50,
      maxConnectionsPerIp: 5,
      gossipMaxFrameBytes: 100_000,
      gossipRate: 40,
      httpMaxConnections: 9
    });
    expect(DEFAULTS.gossipMaxFrameBytes).toBeGreaterThan(64 * 1024);
    expect(() => parseConfig(['--gossip-max-frame-bytes=1000'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--gossip-max-frame-bytes', String(8 << 20)], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--max-connections=0'], {})).toThrow(/1\.\.1000000/);
    expect(() => parseConfig([], { TABULA_GOSSIP_RATE: '' })).toThrow(/TABULA_GOSSIP_RATE/);
  });

  it('grows the connection cap with the reservation cap unless it is set', () => {
    expect(parseConfig(['--max-reservations=1000'], {}).maxConnections).toBe(2000);
    expect(parseConfig(['--max-reservations=10'], {}).maxConnections).toBe(DEFAULTS.maxConnections);
    expect(parseConfig(['--max-reservations=1000', '--max-connections=1500'], {}).maxConnections).toBe(1500);
    expect(() => parseConfig(['--max-reservations=1000', '--max-connections=999'], {})).toThrow(ConfigError);
  });

  it('rejects unknown flags, missing values and bad numbers with a clear error', () => {
    expect(() => parseConfig(['--nope'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--port'], {})).toThrow(/needs a value/);
    expect(() => parseConfig(['--port', '70000'], {})).toThrow(/0\.\.65535/);
    expect(() => parseConfig([], { PORT: 'abc' })).toThrow(/PORT/);
  });
});

describe('relay HTTP endpoints', () => {
  let relay: RunningRelay;
  let dataDir: string;
  let staticDir: string;

  beforeAll(async () => {
    dataDir = await tempDir();
    staticDir = await tempDir();
    await mkdir(join(staticDir, '_app', 'immutable'), { recursive: true });
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>Tabula</title>');
    await writeFile(join(staticDir, '_app', 'immutable', 'a.js'), 'export {}');
    relay = await startRelay(await config(dataDir, staticDir));
  });

  afterAll(async () => relay?.stop());

  it('/healthz reports ok with the relay peer id', async () => {
    const res = await fetch(`${relay.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', peerId: relay.node.peerId.toString() });
  });

  it('/api/relays lists dialable WebSocket multiaddrs ending in the relay id', async () => {
    const body = (await (await fetch(`${relay.url}/api/relays`)).json()) as { relays: string[] };
    expect(body.relays.length).toBeGreaterThan(0);
    for (const addr of body.relays) {
      expect(addr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//);
      expect(addr.endsWith(`/p2p/${relay.node.peerId.toString()}`)).toBe(true);
    }
  });

  it('/metrics exposes connection and reservation gauges', async () => {
    const res = await fetch(`${relay.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^tabula_relay_connections 0$/m);
    expect(text).toMatch(/^tabula_relay_reservations 0$/m);
    expect(text).toMatch(
      new RegExp(`tabula_relay_topic_subscribers\\{topic="tabula/${relay.networkId.slice(0, 16)}/discovery"\\} 0`)
    );
  });

  it('serves the app, falls back to index.html for client routes, and 404s missing assets', async () => {
    const index = await fetch(`${relay.url}/`);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('<title>Tabula</title>');
    expect(await (await fetch(`${relay.url}/dashboard`)).text()).toContain('<title>Tabula</title>');
    const asset = await fetch(`${relay.url}/_app/immutable/a.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${relay.url}/_app/missing.js`)).status).toBe(404);
    expect((await fetch(`${relay.url}/api/nope`)).status).toBe(404);
  });

  it('never serves files outside the app directory', async () => {
    await writeFile(join(dataDir, 'secret.txt'), 'secret');
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2Fsecret.txt',
      `/${'..%2F'.repeat(8)}etc/passwd`
    ]) {
      const res = await rawGet(relay.url, path);
      expect(res.body).not.toContain('secret');
      expect(res.body).not.toContain('root:');
    }
    expect((await rawGet(relay.url, '/%E0%A4%A')).status).toBe(400);
  });

  it('closes the file when a client aborts a download', async () => {
    // Large enough that the response cannot fit in the socket buffers in one go.
    await writeFile(join(staticDir, '_app', 'immutable', 'big.js'), 'x'.repeat(4 << 20));
    const openOnBig = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).endsWith('big.js');
        } catch {
          return false;
        }
      }).length;
    const port = new URL(relay.url).port;
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(Number(port), '127.0.0.1', () =>
          s.write('GET /_app/immutable/big.js HTTP/1.1\r\nHost: x\r\n\r\n')
        );
        s.once('data', () => {
          s.destroy();
          resolve();
        });
      });
    }
    for (let i = 0; i < 200 && openOnBig() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(openOnBig()).toBe(0);
  });

  it('refuses methods other than GET and HEAD', async () => {
    expect((await fetch(`${relay.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });
});

describe('relay identity and lifecycle', () => {
  it('keeps its PeerId across restarts', async () => {
    const dataDir = await tempDir();
    const first = await startRelay(await config(dataDir, dataDir));
    const id = first.node.peerId.toString();
    await first.stop();
    const second = await startRelay(await config(dataDir, dataDir));
    expect(second.node.peerId.toString()).toBe(id);
    await second.stop();
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const dataDir = await tempDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'relay/main.ts', '--port', '0', '--relay-port', '0', '--data-dir', dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe']
      }
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => out.includes('Tabula is running at') && resolve());
      child.once('exit', () => reject(new Error(`relay exited early:\n${out}`)));
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(out).toContain('SIGTERM: shutting down');
  });
});
