// BullMQ 6 without ioredis (an optional peer of BullMQ 6, a dependency of 5): a remote start()
// and startWorker() refuse at once, naming what to install, rather than failing at BullMQ's first
// connection in the background. In a copy of this checkout that loads BullMQ 6
// (scripts/bullmq-tree.mjs) and has no ioredis, as a consumer who installed only bullmq@6 has.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bullmqTree } from '../scripts/bullmq-tree.mjs';
import { runNode } from './helpers/child.mjs';

const tree = bullmqTree({ ioredis: false });
test.after(() => { rmSync(tree.dir, { recursive: true, force: true }); });

test('BullMQ 6 without ioredis: remote start() and startWorker() throw ERR_REMOTE_BULLMQ_MISSING naming ioredis', async () => {
  assert.ok(tree.version.startsWith('6.'), `the tree loads BullMQ ${tree.version}`);
  const script = join(tree.dir, 'start-remote.mjs');
  writeFileSync(script, `
    import { BackgroundThread, configureRemote, startWorker } from 'background-thread';
    import { fileURLToPath } from 'node:url';
    configureRemote({ url: '/nonexistent/redis.sock', secret: 'a-secret-of-sixteen+', root: fileURLToPath(new URL('.', import.meta.url)) });
    const t = new BackgroundThread({ target: { module: new URL('./test/fixtures/remote/jobs/work.mjs', import.meta.url).href, export: 'add', remote: true } });
    for (const attempt of [() => t.start(), () => startWorker({ allow: ['**'], url: '/nonexistent/redis.sock', secret: 'a-secret-of-sixteen+' })]) {
      try { attempt(); console.log('no throw'); } catch (error) { console.log(error.code, error.name, error.message); }
    }
    console.log('alive', t.isAlive());
  `);
  const r = await runNode([script]);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 3, r.stdout + r.stderr);
  for (const line of lines.slice(0, 2)) {
    assert.match(line, /^ERR_REMOTE_BULLMQ_MISSING BackgroundThreadError remote threads need ioredis beside BullMQ 6 .*npm install ioredis$/, r.stdout + r.stderr);
  }
  assert.is(lines[2], 'alive false', 'nothing started');
});

test.run();
