// npm run test:bullmq6: the remote threads' test files against BullMQ 6 (the bullmq6
// devDependency; `npm test` runs them against the default, BullMQ 5), in a copy of this checkout
// that loads it (scripts/bullmq-tree.mjs). Build first (npm run build).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { bullmqTree } from './bullmq-tree.mjs';

const { dir, version } = bullmqTree();
try {
  if (!version.startsWith('6.')) throw new Error(`the bullmq6 devDependency is BullMQ ${version}, not 6`);
  process.stdout.write(`remote threads against BullMQ ${version}, in ${dir}\n`);
  execFileSync(process.execPath, [join(dir, 'node_modules/uvu/bin.js'), 'test', '^(remote-|thrown-remote)'],
    { cwd: dir, stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
