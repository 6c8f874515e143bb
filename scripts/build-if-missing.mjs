// `npm test` runs this first: build the addon and the TypeScript only when they are missing or
// older than their sources, so a fresh clone tests what it holds and a warm tree starts at once.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function newest(dir, pattern) {
  let time = 0;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && pattern.test(entry.name)) {
      time = Math.max(time, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
  }
  return time;
}

function stale(output, dir, pattern, extra = []) {
  const target = join(root, output);
  if (!existsSync(target)) return true;
  const sources = Math.max(newest(dir, pattern),
    ...extra.map((f) => statSync(join(root, f)).mtimeMs));
  return statSync(target).mtimeMs < sources;
}

const run = (command) => execSync(command, { cwd: root, stdio: 'inherit' });
if (stale('build/Release/background_thread.node', 'native', /\.(cc|h)$/, ['binding.gyp'])) run('npm run build:native');
if (stale('dist/index.js', 'src', /\.m?ts$/, ['tsconfig.json'])) run('npm run build:ts');
