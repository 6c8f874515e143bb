// A copy of this checkout that loads BullMQ 6 (the bullmq6 devDependency, an npm alias): the
// package resolves `bullmq` from its own folder, so only a tree of its own makes it load another
// one. The copy has package.json, dist/, the addon (build/Release), test/ and scripts/; its
// node_modules links to this checkout's, but for bullmq, a real copy of bullmq6 (so that what it
// requires resolves from the tree, as in a consumer's node_modules), and, with ioredis: false,
// for ioredis, left out (a consumer on BullMQ 6 who did not install it). The caller removes it.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** Makes the tree; returns { dir, version } (the BullMQ version it loads). */
export function bullmqTree({ ioredis = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bt-bullmq6-'));
  for (const entry of ['package.json', 'dist', 'build/Release/background_thread.node', 'test', 'scripts']) {
    cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  const left = new Set(['.bin', '.package-lock.json', 'bullmq', 'bullmq6', ...(ioredis ? [] : ['ioredis'])]);
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (!left.has(name)) symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  cpSync(join(root, 'node_modules/bullmq6'), join(modules, 'bullmq'), { recursive: true });
  const { version } = JSON.parse(readFileSync(join(modules, 'bullmq/package.json'), 'utf8'));
  return { dir, version };
}
