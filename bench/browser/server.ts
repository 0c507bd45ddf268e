// Builds what the browser benches need and starts the relay that serves the app (as the e2e
// tests do: playwright.config.ts), on loopback ports of its own.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HTTP_PORT = Number(process.env.BENCH_HTTP_PORT ?? 18380);
const RELAY_PORT = Number(process.env.BENCH_RELAY_PORT ?? 19390);
const READY_TIMEOUT_MS = 60_000;

/**
 * Builds the app (`npx vite build`) and the bench page. The app is rebuilt on every run, since the
 * results file is named after the checked-out commit and an older build/ would be measured under
 * it; BENCH_BUILD=0 reuses an existing build/ (only when you know it is this commit's).
 */
export function ensureBuilds(): void {
  if (process.env.BENCH_BUILD !== '0' || !existsSync('build/index.html')) {
    console.log('bench: building the app (BENCH_BUILD=0 reuses build/)');
    execFileSync('npx', ['vite', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  execFileSync('npx', ['vite', 'build', '--config', 'bench/browser/vite.config.ts'], { stdio: 'inherit' });
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

/** Starts the relay and resolves once /healthz answers; rejects if it exits or takes too long. */
export async function startRelay(): Promise<ChildProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tabula-bench-'));
  // One process (node with tsx's loader), so SIGTERM reaches the relay itself.
  const args = ['--import', 'tsx', 'relay/main.ts', '--port', String(HTTP_PORT), '--relay-port', String(RELAY_PORT)];
  const relay = spawn(process.execPath, [...args, '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  relay.on('exit', () => {
    exited = true;
    rmSync(dataDir, { recursive: true, force: true });
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await healthy(`http://127.0.0.1:${HTTP_PORT}/healthz`))) {
    if (exited) throw new Error('relay exited before it was ready');
    if (Date.now() > deadline) throw new Error('relay not ready within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  return relay;
}

/** Stops the relay we started (SIGTERM to its process, then waits for it). */
export async function stopRelay(relay: ChildProcess): Promise<void> {
  if (relay.exitCode !== null) return;
  const gone = new Promise((r) => relay.once('exit', r));
  relay.kill('SIGTERM');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
}
