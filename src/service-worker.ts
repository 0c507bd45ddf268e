/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
// Offline-first (issue 8.5): caches the app shell so a returning visitor with no network and no
// relay still loads every page, and the node (its own worker script included) starts against the
// replica in IndexedDB. Data never passes through here: the replica lives in IndexedDB and the
// node syncs over libp2p once peers return.
//
// Strategy, per same-origin GET:
// - navigations: network first (a fresh page whenever the relay answers), the cached shell
//   (index.html, the SPA fallback) when it does not;
// - build output and static files: cache first (content-hashed, or versioned by the cache name);
// - anything else (/api/*, /metrics, /healthz): not intercepted.
// One cache per build version; older caches are deleted on activate. A new version takes over at
// once (skipWaiting + clients.claim): the shell is content-hashed and the node's state lives in
// IndexedDB, so an open page keeps its already-loaded modules and the next load gets the new ones.
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;

/** Prefix of this app's caches; the build version completes the name. */
const CACHE_PREFIX = 'tabula-shell-';
const CACHE = `${CACHE_PREFIX}${version}`;
/** The SPA fallback every client route renders from (adapter-static `fallback`). */
const SHELL = '/index.html';
/** Paths the worker never answers: live data served by the relay. */
const PASS_THROUGH = [/^\/api\//, /^\/metrics$/, /^\/healthz$/];

const PRECACHE = [...new Set([...build, ...files, SHELL])];
/** Relative module imports inside a built worker script (SvelteKit's `build` list omits worker chunks). */
const RELATIVE_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*[`'"](\.{1,2}\/[^`'"\s]+\.js)[`'"]/g;
/** Cap on worker chunks discovered that way. */
const MAX_WORKER_CHUNKS = 200;

/**
 * Caches the chunks the node's worker imports (transitively), which the build list does not
 * name: the first visit's worker ran before this service worker controlled the page, so an
 * offline reload would find them nowhere else.
 */
async function cacheWorkerChunks(cache: Cache): Promise<void> {
  const queue = PRECACHE.filter((p) => p.includes('/_app/immutable/workers/') && p.endsWith('.js'));
  const seen = new Set(queue);
  while (queue.length > 0 && seen.size <= MAX_WORKER_CHUNKS) {
    const path = queue.shift()!;
    const response = await cache.match(path);
    if (response === undefined) continue;
    for (const m of (await response.text()).matchAll(RELATIVE_IMPORT)) {
      const dep = new URL(m[1], new URL(path, sw.location.origin)).pathname;
      if (seen.has(dep)) continue;
      seen.add(dep);
      await cache.add(dep);
      queue.push(dep);
    }
  }
}

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(PRECACHE);
      await cacheWorkerChunks(cache);
      await sw.skipWaiting();
    })()
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await sw.clients.claim();
    })()
  );
});

/** The network's answer to a navigation; the cached shell when the network fails. */
async function navigate(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (e) {
    const shell = await caches.match(SHELL, { cacheName: CACHE });
    if (shell !== undefined) return shell;
    throw e;
  }
}

/** A cached asset, or the network's answer (cached when it is a complete 200). */
async function asset(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit !== undefined) return hit;
  const response = await fetch(request);
  if (response.status === 200 && response.type === 'basic') await cache.put(request, response.clone());
  return response;
}

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  if (PASS_THROUGH.some((re) => re.test(url.pathname))) return;
  if (request.mode === 'navigate') {
    event.respondWith(navigate(request));
    return;
  }
  if (url.pathname.startsWith('/_app/') || PRECACHE.includes(url.pathname)) event.respondWith(asset(request));
});
