// The package runs on Node.js only. Its addon calls libuv's thread functions (uv_thread_create_ex,
// uv_cond_*, uv_mutex_*) beside Node-API, and the runtimes that load Node addons without being
// Node do not provide them: Bun 1.x panics on uv_cond_init, Deno 2.x cannot even load the addon
// (undefined symbol uv_thread_create_ex) and aborts. So another runtime is refused at import,
// before the addon is loaded, with an error it can catch. src/index.ts loads this module first; it
// must load nothing but ./errors.
import { BackgroundThreadError } from './errors';

/** The runtime this code runs on, when it is not Node.js: its name and version, else null. */
function otherRuntime(): string | null {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string };
  if (versions.bun !== undefined) return `Bun ${versions.bun}`;
  if (versions.deno !== undefined) return `Deno ${versions.deno}`;
  return null;
}

const other = otherRuntime();
if (other !== null) {
  throw new BackgroundThreadError(`background-thread runs on Node.js (18 to 26) only, not on ${other}: its ` +
    "native addon needs libuv's thread functions, which this runtime's Node-API support does not provide",
  { code: 'ERR_UNSUPPORTED_RUNTIME' });
}
