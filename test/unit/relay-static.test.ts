// The relay's HTTP side: static files only from inside the root, security headers on every
// response, conditional and range requests, caching, server limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { request } from 'node:http';
import { HTTP_LIMITS } from '../../relay/limits.js';
import type { RunningRelay } from '../../relay/server.js';
import { startTestRelay, tempDir } from '../helpers/relay-fixture.js';

const INLINE = `\n  window.__boot = 1;\n`;
const INDEX = `<!doctype html><title>Tabula</title><script>${INLINE}</script><script src="/a.js"></script>`;

/** A raw request, so paths reach the server unnormalised. */
function raw(
  url: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET'
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('relay static files and headers', () => {
  let relay: RunningRelay;
  let root: string;
  let outside: string;

  beforeAll(async () => {
    root = await tempDir('tabula-static-');
    outside = await tempDir('tabula-outside-');
    await writeFile(join(outside, 'secret.txt'), 'outside secret');
    await mkdir(join(outside, 'dir'));
    await writeFile(join(outside, 'dir', 'x.js'), 'outside dir');
    await mkdir(join(root, '_app', 'immutable'), { recursive: true });
    await mkdir(join(root, '.git'));
    await mkdir(join(root, 'sub'));
    await writeFile(join(root, 'index.html'), INDEX);
    await writeFile(join(root, 'a.js'), 'export const a = 1;\n'.repeat(100));
    await writeFile(join(root, 'service-worker.js'), 'self.addEventListener("fetch", () => {});');
    await writeFile(join(root, '_app', 'immutable', 'b.js'), 'export {}');
    await writeFile(join(root, '.env'), 'TOKEN=dotfile secret');
    await writeFile(join(root, '.git', 'config'), 'dotdir secret');
    await writeFile(join(root, 'sub', '.hidden.js'), 'hidden secret');
    await symlink(join(outside, 'secret.txt'), join(root, 'leak.txt'));
    await symlink(join(outside, 'dir'), join(root, 'linkdir'));
    await symlink(join(root, '.env'), join(root, 'env.txt'));
    await symlink(join(root, 'a.js'), join(root, 'alias.js'));
    relay = await startTestRelay({ staticDir: root, httpMaxConnections: 4 });
  });

  afterAll(async () => relay?.stop());

  it('never serves dotfiles or dot-directories', async () => {
    for (const path of ['/.env', '/.git/config', '/sub/.hidden.js', '/%2eenv', '/sub/%2Ehidden.js', '/.git/']) {
      const res = await raw(relay.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain('secret');
    }
  });

  it('never follows a symbolic link out of the root, nor to a dotfile inside it', async () => {
    for (const path of ['/leak.txt', '/linkdir/x.js', '/env.txt']) {
      const res = await raw(relay.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain('secret');
      expect(res.body).not.toContain('outside');
    }
    // A link that stays inside the root is an ordinary file.
    expect((await raw(relay.url, '/alias.js')).status).toBe(200);
  });

  it('sends the security headers on every response', async () => {
    const paths = [
      '/',
      '/dashboard',
      '/a.js',
      '/_app/immutable/b.js',
      '/missing.js',
      '/.env',
      '/healthz',
      '/api/relays',
      '/metrics',
      '/api/x'
    ];
    for (const path of paths) {
      const res = await raw(relay.url, path);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['x-frame-options'], path).toBe('DENY');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy'], path).toBe('same-origin');
      const csp = String(res.headers['content-security-policy']);
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("object-src 'none'");
      expect(csp, path).toMatch(/script-src 'self'/);
      expect(csp, path).not.toContain("'unsafe-inline' 'self'");
      expect(csp, path).not.toMatch(/script-src[^;]*unsafe/);
    }
    const post = await raw(relay.url, '/', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['x-frame-options']).toBe('DENY');
  });

  it("allows exactly the page's inline bootstrap script by hash", async () => {
    const hash = createHash('sha256').update(INLINE, 'utf8').digest('base64');
    for (const path of ['/', '/index.html', '/some/client/route']) {
      const res = await raw(relay.url, path);
      expect(res.status).toBe(200);
      expect(res.body).toBe(INDEX);
      expect(String(res.headers['content-security-policy'])).toContain(`'sha256-${hash}'`);
    }
    // A rebuilt page gets the hash of its new script.
    const next = INDEX.replace('__boot = 1', '__boot = 2');
    await writeFile(join(root, 'index.html'), next);
    const newHash = createHash('sha256').update(INLINE.replace('1', '2'), 'utf8').digest('base64');
    const res = await raw(relay.url, '/');
    expect(res.body).toBe(next);
    expect(String(res.headers['content-security-policy'])).toContain(`'sha256-${newHash}'`);
    await writeFile(join(root, 'index.html'), INDEX);
  });

  it('answers conditional requests with 304 and byte ranges with 206', async () => {
    const first = await raw(relay.url, '/a.js');
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^W?\/?"/);
    expect(first.headers['last-modified']).toBeDefined();
    const again = await raw(relay.url, '/a.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    const range = await raw(relay.url, '/a.js', { range: 'bytes=7-11' });
    expect(range.status).toBe(206);
    expect(range.body).toBe('const');
    expect(range.headers['content-range']).toBe(`bytes 7-11/${first.body.length}`);
    const bad = await raw(relay.url, '/a.js', { range: `bytes=${first.body.length + 10}-` });
    expect(bad.status).toBe(416);
  });

  it('caches hashed assets for a year and revalidates everything else', async () => {
    const immutable = await raw(relay.url, '/_app/immutable/b.js');
    expect(immutable.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(immutable.headers['content-type']).toMatch(/javascript/);
    expect((await raw(relay.url, '/a.js')).headers['cache-control']).toBe('no-cache');
    expect((await raw(relay.url, '/')).headers['cache-control']).toBe('no-cache');
    expect((await raw(relay.url, '/healthz')).headers['cache-control']).toBe('no-store');
    const head = await raw(relay.url, '/a.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves the service worker revalidated on every load, as JavaScript, and lets pages register it', async () => {
    const sw = await raw(relay.url, '/service-worker.js');
    expect(sw.status).toBe(200);
    expect(sw.headers['content-type']).toMatch(/javascript/);
    // Browsers check a worker script for updates at most every 24 h anyway; no-cache keeps it current.
    expect(sw.headers['cache-control']).toBe('no-cache');
    expect(String((await raw(relay.url, '/')).headers['content-security-policy'])).toContain("worker-src 'self'");
  });

  it('keeps real missing assets a 404 and serves the app for client routes', async () => {
    expect((await raw(relay.url, '/_app/missing.js')).status).toBe(404);
    expect((await raw(relay.url, '/dashboard')).body).toBe(INDEX);
    expect((await raw(relay.url, '/%E0%A4%A')).status).toBe(400);
    expect((await raw(relay.url, '/a%00.js')).status).toBe(400);
  });

  it('has request timeouts and a connection cap', async () => {
    expect(relay.http.headersTimeout).toBe(HTTP_LIMITS.headersTimeoutMs);
    expect(relay.http.requestTimeout).toBe(HTTP_LIMITS.requestTimeoutMs);
    expect(relay.http.keepAliveTimeout).toBe(HTTP_LIMITS.keepAliveTimeoutMs);
    expect(relay.http.maxConnections).toBe(4);
    const port = Number(new URL(relay.url).port);
    // Four idle sockets fill the cap; the fifth is closed without an answer.
    const held = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const s = connect(port, '127.0.0.1', () => resolve(s));
          })
      )
    );
    const fifth = connect(port, '127.0.0.1');
    const closed = await new Promise<boolean>((resolve) => {
      fifth.on('close', () => resolve(true));
      fifth.on('error', () => resolve(true));
      fifth.on('data', () => resolve(false));
      fifth.on('connect', () => fifth.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    });
    expect(closed).toBe(true);
    for (const s of held) s.destroy();
  });
});
