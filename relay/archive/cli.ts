// `tsx relay/main.ts export|import ...`: archive backups from the command line.
import { resolve } from 'node:path';
import { DEFAULTS } from '../config.js';
import { loadNetworkGenesis } from '../network-genesis.js';
import { exportArchive, importArchive } from './backup.js';

export const BACKUP_COMMANDS = new Set(['export', 'import']);

export const BACKUP_USAGE = `Usage:
  tsx relay/main.ts export --data-dir D --out FILE   full snapshot of the archive (relay may run)
  tsx relay/main.ts import --data-dir D --in FILE    verify FILE, then merge it all or nothing (relay stopped)
--data-dir defaults to TABULA_DATA_DIR or ${DEFAULTS.dataDir}.`;

export class BackupUsageError extends Error {
  override name = 'BackupUsageError';
}

function options(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!['--data-dir', '--out', '--in'].includes(flag)) throw new BackupUsageError(`unknown option ${arg}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (!value) throw new BackupUsageError(`${flag} needs a value`);
    out.set(flag, value);
  }
  return out;
}

/**
 * Runs `export` or `import` (argv[0]) and returns its JSON report. Throws BackupUsageError on bad
 * arguments; the operation's typed errors otherwise (ArchiveLockedError, MalformedSnapshotError...).
 */
export async function runBackupCommand(argv: string[], env: Record<string, string | undefined>): Promise<object> {
  const [command, ...rest] = argv;
  const opts = options(rest);
  const dataDir = resolve(opts.get('--data-dir') ?? env.TABULA_DATA_DIR ?? DEFAULTS.dataDir);
  const { genesis } = await loadNetworkGenesis(dataDir);
  if (command === 'export') {
    const out = opts.get('--out');
    if (!out) throw new BackupUsageError('export needs --out FILE');
    return exportArchive(dataDir, resolve(out), genesis);
  }
  if (command === 'import') {
    const input = opts.get('--in');
    if (!input) throw new BackupUsageError('import needs --in FILE');
    return importArchive(dataDir, resolve(input), genesis);
  }
  throw new BackupUsageError(`unknown command ${command}`);
}
