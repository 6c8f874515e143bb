// The API's contract ships in the type declarations: every export of the package's entry points,
// and every public member of its classes and interfaces (inherited ones and the options
// included), carries a TSDoc comment, with a @param for each parameter. Read from dist/ with the
// TypeScript compiler API, as an editor reads it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const ts = require('typescript');

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const entries = ['index.d.ts', 'index.d.mts'].map((file) => path.join(dist, file));

const program = ts.createProgram(entries, {
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022, types: ['node'], noEmit: true,
});
const checker = program.getTypeChecker();

function resolved(symbol) {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

/** Declared in the package's own declarations (not Node's or the ES library's). */
function ours(declaration) {
  return path.resolve(declaration.getSourceFile().fileName).startsWith(dist);
}

// The comment text of a declaration's own TSDoc (tags excluded), '' when it has none.
function ownText(declaration) {
  return ts.getJSDocCommentsAndTags(declaration).filter((node) => ts.isJSDoc(node))
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '').join('').trim();
}

function isInternal(declaration) {
  return ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === 'internal');
}

// What is wrong with one documented declaration: no text, or a parameter without its @param
// (a function, a method, a constructor overload).
function checkDeclaration(declaration, where, problems) {
  if (ownText(declaration) === '') {
    problems.push(`${where}: no comment`);
    return;
  }
  for (const parameter of declaration.parameters ?? []) {
    if (!ts.isIdentifier(parameter.name)) continue;  // destructured: no name to document
    const tags = ts.getJSDocParameterTags(parameter);
    if (!tags.some((tag) => (ts.getTextOfJSDocComment(tag.comment) ?? '').trim() !== '')) {
      problems.push(`${where}: no @param ${parameter.name.text}`);
    }
  }
}

// The declarations that document member `name` of a class or interface: its own, else those of
// the nearest base of the package that documents it (what an editor shows). Never Node's or the
// ES library's: Object's toString comment is not this package's contract.
function documenting(type, name) {
  const member = type.getProperty(name);
  const own = (member?.getDeclarations() ?? []).filter((d) => ours(d) && ownText(d) !== '');
  if (own.length > 0) return own;
  if (!type.isClassOrInterface()) return [];
  for (const base of checker.getBaseTypes(type) ?? []) {
    const found = documenting(base, name);
    if (found.length > 0) return found;
  }
  return [];
}

function checkMembers(type, owner, problems) {
  for (const member of type.getProperties()) {
    const declarations = (member.getDeclarations() ?? []).filter(ours);
    if (declarations.length === 0) continue;  // Error's own message, stack, ...
    if (declarations.some((d) => d.name !== undefined && ts.isPrivateIdentifier(d.name))) continue;
    if (declarations.some(isInternal)) continue;
    const where = `${owner}.${member.getName()}`;
    const found = documenting(type, member.getName());
    if (found.length === 0) problems.push(`${where}: no comment`);
    for (const declaration of found) {
      if (ts.isMethodDeclaration(declaration) || ts.isMethodSignature(declaration)) {
        checkDeclaration(declaration, `${where}()`, problems);
      }
    }
  }
}

function checkExport(exported, problems) {
  const symbol = resolved(exported);
  const name = exported.getName();
  const declarations = (symbol.getDeclarations() ?? []).filter(ours);
  assert.ok(declarations.length > 0, `${name} is not declared in dist/`);
  for (const declaration of declarations) {
    if (ts.isFunctionDeclaration(declaration)) {
      checkDeclaration(declaration, `${name}()`, problems);
      continue;
    }
    if (ownText(declaration) === '') problems.push(`${name}: no comment`);
    if (ts.isClassDeclaration(declaration)) {
      for (const member of declaration.members) {
        if (ts.isConstructorDeclaration(member) && !isInternal(member)) {
          checkDeclaration(member, `new ${name}()`, problems);
        }
      }
      checkMembers(checker.getTypeOfSymbol(symbol), `${name} (static)`, problems);
    }
    if (ts.isClassDeclaration(declaration) || ts.isInterfaceDeclaration(declaration)) {
      checkMembers(checker.getDeclaredTypeOfSymbol(symbol), name, problems);
    }
  }
}

for (const entry of entries) {
  test(`every export of dist/${path.basename(entry)} and every public member has its TSDoc`, () => {
    const source = program.getSourceFile(entry);
    assert.ok(source, `${entry} is missing: run npm run build:ts`);
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source));
    assert.ok(exports.length >= 20, `only ${exports.length} exports found`);
    const problems = [];
    const seen = new Set();  // Error is BackgroundThreadError: checked once
    for (const exported of exports) {
      if (seen.has(resolved(exported))) continue;
      seen.add(resolved(exported));
      checkExport(exported, problems);
    }
    assert.ok(problems.length === 0, `undocumented:\n  ${problems.join('\n  ')}`);
  });
}

test('the checks see the members they must check', () => {
  const source = program.getSourceFile(entries[0]);
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source));
  const byName = new Map(exports.map((symbol) => [symbol.getName(), resolved(symbol)]));
  const members = (name) => checker.getDeclaredTypeOfSymbol(byName.get(name)).getProperties()
    .map((member) => member.getName());
  for (const name of ['start', 'run', 'join', 'joinSync', 'isAlive', 'daemon', 'name', 'ident',
    'nativeId', 'toString', 'getName', 'setName', 'isDaemon', 'is_daemon', 'setDaemon', 'is_alive',
    'signal', 'reportProgress']) {
    assert.ok(members('BackgroundThread').includes(name), `BackgroundThread.${name}`);
    assert.ok(members('MainThread').includes(name), `MainThread.${name}`);
  }
  assert.equal(members('BackgroundThreadOptions').sort(),
    ['args', 'cancelGrace', 'daemon', 'group', 'isolate', 'kwargs', 'name', 'reportCancel', 'signal', 'stackSize',
      'target', 'transfer', 'verbose']);
  for (const name of ['result', 'exception', 'cancel', 'progress', 'on']) {
    assert.ok(members('BackgroundThread').includes(name), `BackgroundThread.${name}`);
  }
  for (const name of ['startNewBackgroundThread', 'start_new_background_thread', 'Error',
    'excepthook', 'ExceptHookArgs', 'ModuleTarget', 'RuntimeError', 'currentThread',
    'setIsolatePool', 'isolatePool', 'IsolatePoolOptions', 'IsolatePoolState', 'transfer',
    'ThreadCancelledError']) {
    assert.ok(byName.has(name), name);
  }
});

test.run();
