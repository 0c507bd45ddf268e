// A relay in its own Node process (no tsx wrapper process, so its PID is the relay's own and a
// signal reaches it directly), for kill and restart tests.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RelayProcess {
  child: ChildProcess;
  pid: number;
  /** http://127.0.0.1:port */
  url: string;
  /** The first libp2p multiaddr it printed. */
  addr: string;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code, or the signal's name. */
  exited: Promise<number | string | null>;
}

/** Starts `relay/main.ts` with `args` (free ports unless given) and waits until it listens. */
export async function spawnRelay(args: string[], timeoutMs = 60_000): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'relay/main.ts', '--port', '0', '--relay-port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe']
    }
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code))
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start in time:\n${out}`)), timeoutMs);
    child.stdout!.on('data', () => {
      if (!out.includes('Tabula is running at')) return;
      clearTimeout(timer);
      resolve();
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`relay exited early:\n${out}`));
    });
  });
  const url = /Tabula is running at (\S+?)\/ /.exec(out)?.[1];
  const addr = /libp2p\s+(\S+)/.exec(out)?.[1];
  if (!url || !addr) throw new Error(`could not read the relay's addresses:\n${out}`);
  return { child, pid: child.pid!, url, addr, output: () => out, exited };
}
