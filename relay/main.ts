// Relay entry point: parse flags and environment, start, stop cleanly on SIGTERM/SIGINT.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig, USAGE, type RelayConfig } from './config.js';
import { describeAddressInUse } from './errors.js';
import { startRelay, type RunningRelay } from './server.js';
import { BACKUP_COMMANDS, BACKUP_USAGE, runBackupCommand } from './archive/cli.js';
import { describeCreated, GENESIS_COMMAND, GENESIS_USAGE, runGenesisCommand } from './genesis-cli.js';

let relay: Promise<RunningRelay> | undefined;
let config: RelayConfig | undefined;
let stopping = false;

function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  (relay ?? Promise.resolve(undefined))
    .then((r) => r?.stop())
    .then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      }
    );
}

// Registered before anything else, so a signal during start-up is handled too. `on`, not `once`:
// a helper that re-raises signals nobody listens to would otherwise kill us mid-shutdown.
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (BACKUP_COMMANDS.has(argv[0])) return backup(argv);
  if (argv[0] === GENESIS_COMMAND) return genesis(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  config = parseConfig(argv, process.env);
  relay = startRelay(config);
  const r = await relay;
  if (!existsSync(join(config.staticDir, 'index.html')))
    console.warn(
      `warning: no built app in ${config.staticDir} (index.html is missing): pages answer 404. ` +
        'Build it with `npx vite build` (`npm start` does), or point --static-dir at a build.'
    );
  console.log(`Tabula relay ${r.node.peerId.toString()}`);
  for (const ma of r.node.getMultiaddrs()) console.log(`  libp2p  ${ma.toString()}`);
  console.log(`  network ${r.networkId}${r.networkName === undefined ? '' : ` ("${r.networkName}")`}`);
  const pin = r.networkName === undefined ? '' : `?network=${r.networkId}`;
  console.log(`Tabula is running at ${r.url}/${pin}  (dashboard: ${r.url}/dashboard${pin})`);
}

/** `genesis`: creates a network in the data dir; exits 0, 2 on bad usage, 1 on failure. */
async function genesis(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(GENESIS_USAGE);
    process.exit(0);
  }
  try {
    console.log(describeCreated(await runGenesisCommand(argv, process.env)));
    process.exit(0);
  } catch (err) {
    const usage = (err as Error).name === 'GenesisUsageError';
    console.error(`${(err as Error).name}: ${(err as Error).message}${usage ? `\n${GENESIS_USAGE}` : ''}`);
    process.exit(usage ? 2 : 1);
  }
}

/** `export` / `import`: archive backups; prints a JSON report, exits 0, or 2 on bad usage, 1 on failure. */
async function backup(argv: string[]): Promise<void> {
  try {
    console.log(JSON.stringify(await runBackupCommand(argv, process.env)));
    process.exit(0);
  } catch (err) {
    const usage = (err as Error).name === 'BackupUsageError';
    console.error(
      usage ? `${(err as Error).message}\n${BACKUP_USAGE}` : `${(err as Error).name}: ${(err as Error).message}`
    );
    process.exit(usage ? 2 : 1);
  }
}

main().catch((err: unknown) => {
  const inUse = config && describeAddressInUse(err, config);
  console.error(err instanceof ConfigError ? err.message : (inUse ?? err));
  process.exit(err instanceof ConfigError ? 2 : 1);
});
