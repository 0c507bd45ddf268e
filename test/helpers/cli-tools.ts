// Command-line tools some tests run (the snapshot tests read files with `zcat | jq`). Tests
// assert they are present instead of skipping: a missing tool is a failed test, never a pass.
import { spawnSync } from 'node:child_process';

/** Which of `names` are not on PATH. */
export function missingTools(names: readonly string[] = ['jq', 'zcat']): string[] {
  return names.filter((n) => spawnSync('sh', ['-c', `command -v ${n}`], { stdio: 'ignore' }).status !== 0);
}

export const ZCAT_JQ_HINT =
  'the zcat | jq check needs jq and zcat: apt-get install -y jq gzip (npm test installs them when run as root)';
