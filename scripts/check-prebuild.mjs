// Checks that a prebuilt .node will load wherever Node 18+ runs: the right ELF machine, only the
// C/C++ runtime as dependencies, and no symbol versions newer than Node's own floor (glibc 2.28,
// the libstdc++ of GCC 10). Usage: node scripts/check-prebuild.mjs FILE x64|arm64
import { execFileSync } from 'node:child_process';

const [file, arch = 'x64'] = process.argv.slice(2);
const tools = { x64: { prefix: '', machine: /X86-64/ }, arm64: { prefix: 'aarch64-linux-gnu-', machine: /AArch64/ } }[arch];
if (!file || !tools) {
  console.error('usage: node scripts/check-prebuild.mjs FILE x64|arm64');
  process.exit(2);
}
const run = (tool, args) => execFileSync(`${tools.prefix}${tool}`, [...args, file], { encoding: 'utf8' });
const ALLOWED_LIBS = new Set(['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libpthread.so.0']);
const FLOOR = { GLIBC: [2, 28], GLIBCXX: [3, 4, 28], CXXABI: [1, 3, 12] };

const problems = [];
const machine = /Machine:\s+(.*)/.exec(run('readelf', ['-h']))?.[1] ?? '?';
if (!tools.machine.test(machine)) problems.push(`machine is ${machine}, not ${arch}`);
const needed = [...run('readelf', ['-d']).matchAll(/Shared library: \[(.+?)\]/g)].map((m) => m[1]);
for (const lib of needed) if (!ALLOWED_LIBS.has(lib)) problems.push(`depends on ${lib}`);

const newest = {};
for (const [, family, version] of run('objdump', ['-T']).matchAll(/\((GLIBC|GLIBCXX|CXXABI)_([\d.]+)\)/g)) {
  const parts = version.split('.').map(Number);
  const later = (a, b) => { for (let i = 0; i < Math.max(a.length, b.length); i++) { if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0); } return false; };
  if (!newest[family] || later(parts, newest[family])) newest[family] = parts;
  if (later(parts, FLOOR[family])) problems.push(`needs ${family}_${version} (newer than ${family}_${FLOOR[family].join('.')})`);
}
console.log(`${file}: ${machine}; needs ${needed.join(', ')}; newest ${Object.entries(newest).map(([f, v]) => `${f}_${v.join('.')}`).join(', ')}`);
if (problems.length) {
  for (const problem of [...new Set(problems)]) console.error(`  problem: ${problem}`);
  process.exit(1);
}
