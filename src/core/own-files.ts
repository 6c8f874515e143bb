// Where the package finds its own files: the addon (node-gyp-build looks in the package folder,
// dist/../..) and the module-target runner (dist/isolate/runner.js, a Worker's entry). Bundled into
// an app's JavaScript, this code runs from the bundle, away from both (and esbuild's ESM output
// cannot even require() Node's built-ins): ERR_BUNDLED then names the fix, rather than an error
// from deep inside. src/index.ts loads this module first, before any other requires a built-in;
// so it must itself load nothing but ./errors, which requires no built-in at load.
import { BackgroundThreadError } from './errors';

/**
 * The package's JavaScript runs away from its files (it was bundled): what is missing, and the fix.
 */
export function bundledError(missing: string, cause?: unknown): BackgroundThreadError {
  return new BackgroundThreadError(`background-thread cannot find ${missing}: its JavaScript was bundled ` +
    'into yours, away from its native addon and its files. Mark background-thread as external ' +
    "(esbuild: --external:background-thread; webpack: externals: { 'background-thread': " +
    "'commonjs background-thread' }) and install it in node_modules where the bundle runs",
    cause === undefined ? { code: 'ERR_BUNDLED' } : { code: 'ERR_BUNDLED', cause });
}

function builtins(): { fs: typeof import('node:fs'); path: typeof import('node:path') } {
  try {
    return { fs: require('node:fs') as typeof import('node:fs'), path: require('node:path') as typeof import('node:path') };
  } catch (error) {  // esbuild's ESM output: 'Dynamic require of "node:fs" is not supported'
    throw bundledError("Node's built-in modules (require() of node:fs failed)", error);
  }
}
const { fs, path } = builtins();
// An ESM bundle given a require() (a createRequire banner) still has no __dirname.
if (typeof __dirname === 'undefined') throw bundledError('its own folder (__dirname is not defined)');

/** The package folder, where node-gyp-build looks for the addon. */
export const PACKAGE_DIR = path.join(__dirname, '..', '..');  // from dist/core/
/** The file an isolate's Worker runs (src/isolate/runner.ts). */
export const RUNNER = path.join(__dirname, '..', 'isolate', 'runner.js');

let runnerFound = false;

/** True when the runner is where this code expects it: the package's own dist/, not a bundle. */
export function runnerExists(): boolean {
  return (runnerFound ||= fs.existsSync(RUNNER));
}

/**
 * Before a module thread's start: ERR_BUNDLED, with nothing started, when the runner is missing.
 */
export function checkRunner(): void {
  if (!runnerExists()) throw bundledError(`its module-target runner (${RUNNER})`);
}
