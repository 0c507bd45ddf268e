// Extra relays for multi-relay Playwright tests: each is its own `node --import tsx relay/main.ts`
// process (so a test can SIGKILL it by PID and start it again on the same ports and key), with
// its key made beforehand so every relay's --peer list is known before any starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

export interface RelayProcess {
  /** e.g. http://127.0.0.1:18180 */
  url: string;
  /** The libp2p WebSocket multiaddr with /p2p/<id>. */
  addr: string;
  peerId: string;
  /** PID of the running process, undefined while stopped. */
  pid(): number | undefined;
  /** Starts (or restarts) the process and waits for /healthz. */
  start(): Promise<void>;
  /** SIGKILL (default) or SIGTERM by PID; resolves once the process exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

interface Plan {
  httpPort: number;
  relayPort: number;
  dataDir: string;
  peerId: string;
  addr: string;
}

async function plan(httpPort: number, relayPort: number): Promise<Plan> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tabula-mesh-e2e-'));
  const key = await generateKeyPair('Ed25519');
  writeFileSync(join(dataDir, 'relay.key'), privateKeyToProtobuf(key), { mode: 0o600 });
  const peerId = peerIdFromPrivateKey(key).toString();
  return { httpPort, relayPort, dataDir, peerId, addr: `/ip4/127.0.0.1/tcp/${relayPort}/ws/p2p/${peerId}` };
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`relay exited (${child.exitCode}):\n${log()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`relay at ${url} not healthy:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function relayProcess(p: Plan, peers: string[], extraArgs: string[] = []): RelayProcess {
  let child: ChildProcess | undefined;
  let output = '';
  const url = `http://127.0.0.1:${p.httpPort}`;
  return {
    url,
    addr: p.addr,
    peerId: p.peerId,
    pid: () => (child?.exitCode === null && child.signalCode === null ? child.pid : undefined),
    async start() {
      const args = ['--import', 'tsx', 'relay/main.ts', '--port', `${p.httpPort}`, '--relay-port', `${p.relayPort}`];
      args.push('--data-dir', p.dataDir, ...peers.flatMap((a) => ['--peer', a]), ...extraArgs);
      child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (b: Buffer): void => void (output = (output + b.toString()).slice(-8000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      await waitHealthy(url, child, () => output);
    },
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      process.kill(c.pid!, signal);
      await exited;
    }
  };
}

/**
 * `n` relays on HTTP ports basePort, basePort+1, … and libp2p ports basePort+1000+i, each
 * started with `--peer` for every other one (a full mesh). Not started yet. `extraArgs(i)` adds
 * flags to relay i (e.g. `--archive`).
 */
export async function planMesh(
  n: number,
  basePort: number,
  extraArgs: (i: number) => string[] = () => []
): Promise<RelayProcess[]> {
  const plans: Plan[] = [];
  for (let i = 0; i < n; i++) plans.push(await plan(basePort + i, basePort + 1000 + i));
  return plans.map((p, i) =>
    relayProcess(
      p,
      plans.filter((q) => q !== p).map((q) => q.addr),
      extraArgs(i)
    )
  );
}
