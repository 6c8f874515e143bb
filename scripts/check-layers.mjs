// npm run lint: the layer rules of src/, read from the imports TypeScript parses. From the bottom:
//   core/     errors, argument checks, symbols, thrown values, own files: imports nothing else
//   native/   the addon's binding and this loop's attachment to it
//   isolate/, remote/   the two bodies that run a thread away from the creator's loop
//   thread/   the Python contract: the class, its context, excepthook and module functions
// A file imports its own folder and the folders below it; a type (erased at build) may come from
// anywhere. Entry points (the package's index, an isolate's runner, the worker CLI) are imported
// by nobody (but the ESM entry, which re-exports the CommonJS one), and they, with the fleet's
// worker (it runs threads), may import anything.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// The folder to check: src/ of this checkout, or the one given (test/layers.test.mjs).
const SRC = path.resolve(process.argv[2] ?? new URL('../src', import.meta.url).pathname);
const RANK = { core: 0, native: 1, isolate: 2, remote: 2, thread: 3 };
const ENTRIES = new Set(['index.ts', 'index.mts', 'isolate/runner.ts', 'remote/cli.ts']);
const TOP = new Set([...ENTRIES, 'remote/worker.ts']);

const files = readdirSync(SRC, { recursive: true }).map(String).filter((f) => /\.m?ts$/.test(f))
  .map((f) => f.split(path.sep).join('/'));
const folder = (file) => (file.includes('/') ? file.split('/')[0] : null);

/** The relative imports of a file: [specifier, typeOnly]. */
function importsOf(file) {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node, typeOnly) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const onlyTypes = ts.isImportDeclaration(node)
        ? node.importClause?.isTypeOnly === true ||
          (node.importClause !== undefined && node.importClause.name === undefined &&
           node.importClause.namedBindings !== undefined &&
           ts.isNamedImports(node.importClause.namedBindings) &&
           node.importClause.namedBindings.elements.every((e) => e.isTypeOnly))
        : node.isTypeOnly;
      found.push([node.moduleSpecifier.text, onlyTypes]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      found.push([node.argument.literal.text, true]);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 &&
        ts.isStringLiteral(node.arguments[0]) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
         (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      found.push([node.arguments[0].text, typeOnly]);
    }
    ts.forEachChild(node, (child) => visit(child, typeOnly));
  };
  visit(source, false);
  return found.filter(([spec]) => spec.startsWith('.'));
}

/** The source file of a relative specifier: './x' or './x.js' is x.ts, './x.mjs' x.mts. */
function resolve(from, spec) {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const candidate = base.endsWith('.mjs') ? base.replace(/\.mjs$/, '.mts') : `${base.replace(/\.js$/, '')}.ts`;
  return files.includes(candidate) ? candidate : null;
}

const problems = [];
for (const file of files) {
  for (const [spec, typeOnly] of importsOf(file)) {
    const target = resolve(file, spec);
    if (target === null) { problems.push(`${file}: '${spec}' is no file of src/`); continue; }
    if (ENTRIES.has(target) && !(file === 'index.mts' && target === 'index.ts')) problems.push(`${file}: imports the entry point ${target}`);
    if (typeOnly || TOP.has(file)) continue;
    const [mine, theirs] = [folder(file), folder(target)];
    if (mine === null) continue;
    if (!(mine in RANK) || !(theirs in RANK)) { problems.push(`${file}: ${target} is in no layer`); continue; }
    if (mine !== theirs && RANK[theirs] >= RANK[mine]) {
      problems.push(`${file}: imports ${target}, of a layer (${theirs}/) not below its own (${mine}/)`);
    }
  }
}
for (const problem of problems) console.error(problem);
if (problems.length > 0) process.exit(1);
console.log(`layers: ${files.length} files, their imports within the rules`);
