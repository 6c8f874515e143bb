// The README's table of errors and the codes src/ gives errors, kept in step: every code a
// source file names is in the table, and every code in the table is one that src/ (or Node, for
// the errors the package lets through as Node makes them) gives.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CODE = /\bERR_[A-Z0-9_]+\b/g;
// Codes the table lists that Node's own errors carry (node:assert's AssertionError).
const NODE_CODES = new Set(['ERR_ASSERTION']);

function sourceCodes() {
  const codes = new Set();
  for (const file of readdirSync(join(ROOT, 'src'), { recursive: true })) {
    if (!/\.m?ts$/.test(file)) continue;
    // Code, not comments: a code only mentioned in a comment is no error that is thrown.
    const text = readFileSync(join(ROOT, 'src', file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const [code] of text.matchAll(/'(ERR_[A-Z0-9_]+)'/g)) codes.add(code.slice(1, -1));
  }
  return codes;
}

function tableCodes() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Errors');
  assert.ok(start >= 0, 'the README has an Errors section');
  const end = readme.indexOf('\n#', start + 1);
  const rows = readme.slice(start, end).split('\n').filter((line) => line.startsWith('|'));
  // The code column is the last one of each row.
  return new Set(rows.flatMap((row) => [...(row.split('|').at(-2) ?? '').matchAll(CODE)].map(([c]) => c)));
}

test('every code src/ gives an error is in the README\'s error table', () => {
  const listed = tableCodes();
  const missing = [...sourceCodes()].filter((code) => !listed.has(code));
  assert.equal(missing, [], `codes missing from the README's Errors table: ${missing.join(', ')}`);
});

test('every code in the README\'s error table is given by src/ (or Node)', () => {
  const given = sourceCodes();
  const stale = [...tableCodes()].filter((code) => !given.has(code) && !NODE_CODES.has(code));
  assert.equal(stale, [], `codes in the README's Errors table that nothing gives: ${stale.join(', ')}`);
});

test.run();
