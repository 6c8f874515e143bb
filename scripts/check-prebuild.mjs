// Checks that a prebuilt .node will load wherever Node 18+ runs: the right ELF machine, only the
// C/C++ runtime as dependencies, the Node-API entry point exported, and
// - glibc: no symbol versions newer than Node's own floor (glibc 2.28, the libstdc++ of GCC 10);
// - musl: musl's libc.so alone (the C++ runtime is linked in) and no glibc symbol versions at all,
//   and nothing exported but the Node-API entry points (see scripts/prebuild-musl.sh).
// Usage: node scripts/check-prebuild.mjs FILE x64|arm64 [glibc|musl]
import { execFileSync } from 'node:child_process';

const [file, arch = 'x64', libc = 'glibc'] = process.argv.slice(2);
const tools = { x64: { prefix: '', machine: /X86-64/ }, arm64: { prefix: 'aarch64-linux-gnu-', machine: /AArch64/ } }[arch];
const ALLOWED_LIBS = {
  glibc: new Set(['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libpthread.so.0']),
  musl: new Set(['libc.so']),
}[libc];
if (!file || !tools || !ALLOWED_LIBS) {
  console.error('usage: node scripts/check-prebuild.mjs FILE x64|arm64 [glibc|musl]');
  process.exit(2);
}
const run = (tool, args) => execFileSync(`${tools.prefix}${tool}`, [...args, file], { encoding: 'utf8' });
const FLOOR = { GLIBC: [2, 28], GLIBCXX: [3, 4, 28], CXXABI: [1, 3, 12] };
const ENTRY_POINTS = new Set(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);

const problems = [];
const machine = /Machine:\s+(.*)/.exec(run('readelf', ['-h']))?.[1] ?? '?';
if (!tools.machine.test(machine)) problems.push(`machine is ${machine}, not ${arch}`);
const needed = [...run('readelf', ['-d']).matchAll(/Shared library: \[(.+?)\]/g)].map((m) => m[1]);
for (const lib of needed) if (!ALLOWED_LIBS.has(lib)) problems.push(`depends on ${lib}`);
const exported = run('nm', ['-D', '--defined-only']).split('\n').map((line) => line.split(' ')[2]).filter(Boolean);
if (!exported.includes('napi_register_module_v1')) problems.push('does not export napi_register_module_v1');
if (libc === 'musl') {
  const others = exported.filter((name) => !ENTRY_POINTS.has(name));
  if (others.length) problems.push(`exports ${others.length} symbols besides the Node-API entry points (${others.slice(0, 3).join(', ')}, ...)`);
}

const newest = {};
for (const [, family, version] of run('objdump', ['-T']).matchAll(/\((GLIBC|GLIBCXX|CXXABI)_([\d.]+)\)/g)) {
  const parts = version.split('.').map(Number);
  const later = (a, b) => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
    }
    return false;
  };
  if (!newest[family] || later(parts, newest[family])) newest[family] = parts;
  if (libc === 'musl') problems.push(`needs ${family}_${version}: a glibc symbol version, which musl does not have`);
  else if (later(parts, FLOOR[family])) problems.push(`needs ${family}_${version} (newer than ${family}_${FLOOR[family].join('.')})`);
}
const versions = Object.entries(newest).map(([f, v]) => `${f}_${v.join('.')}`).join(', ');
console.log(`${file}: ${machine}; needs ${needed.join(', ')}; ${versions ? `newest ${versions}` : 'no symbol versions'}; exports ${exported.length} symbols`);
if (problems.length) {
  for (const problem of [...new Set(problems)]) console.error(`  problem: ${problem}`);
  process.exit(1);
}
