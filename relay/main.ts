// Relay entry point: parse flags and environment, start, stop cleanly on SIGTERM/SIGINT.
import { ConfigError, parseConfig, USAGE } from './config.js';
import { startRelay } from './server.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const config = parseConfig(argv, process.env);
  const relay = await startRelay(config);
  console.log(`Tabula relay ${relay.node.peerId.toString()}`);
  for (const ma of relay.node.getMultiaddrs()) console.log(`  libp2p  ${ma.toString()}`);
  console.log(`  network ${relay.networkId}`);
  console.log(`Tabula is running at ${relay.url}/  (dashboard: ${relay.url}/dashboard)`);
  const shutdown = (signal: string): void => {
    console.log(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    relay.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      }
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
