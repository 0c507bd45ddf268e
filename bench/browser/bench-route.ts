// Serves the built bench files (build-tests/bench) under /__bench/ on the app's origin, for every
// page of a context, so they share the origin's IndexedDB and pass the app's CSP ('self').
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

const BENCH_ROOT = join(process.cwd(), 'build-tests', 'bench');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

export async function routeBench(context: BrowserContext): Promise<void> {
  await context.route('**/__bench/**', async (route) => {
    const path = new URL(route.request().url()).pathname.replace('/__bench/', '');
    const file = join(BENCH_ROOT, path === '' ? 'index.html' : path);
    if (!file.startsWith(BENCH_ROOT)) return route.fulfill({ status: 403 });
    try {
      return route.fulfill({
        body: readFileSync(file),
        contentType: TYPES[extname(file)] ?? 'application/octet-stream'
      });
    } catch (e) {
      console.error(`[bench page] cannot serve ${file}: ${String(e)}`);
      return route.fulfill({ status: 404 });
    }
  });
}
