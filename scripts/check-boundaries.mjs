#!/usr/bin/env node
/**
 * `npm run lint` guard rails that Biome cannot express (STYLE.md "Layout is the architecture"):
 *
 * 1. Import boundaries by path, relative imports included: Biome's noRestrictedImports (biome.json) refuses
 *    `lmdb` outside store/, but `../store/x.js` from machines/ reaches the same code. Each folder below may not
 *    import the folders listed against it.
 * 2. machines/, strategies/ and domain/ are pure and deterministic: no timers, no `Date`, no `performance`, no
 *    `Math.random`. Time and randomness come in as values or injected functions (a clock, a seeded generator), so
 *    the same inputs always give the same transitions and a test replays them.
 *
 * Tests beside the code (`*.test.ts`) are exempt: they compose real components around the unit (the store, the
 * simulator) and may use timers and `Date` to compare against.
 * Exits 1 listing every violation as `file:line:col rule: message`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

const PURE = ['machines', 'strategies', 'domain'];
/** folder → folders it may not import (relative paths resolved; `src/<folder>/...`). */
const FORBIDDEN = {
  machines: ['*', ...PURE],
  strategies: ['*', ...PURE],
  domain: ['*', ...PURE],
  // http/ talks to the runtime through its ports (src/http/ports.ts), never to the store, machines, venues or actors.
  http: ['store', 'machines', 'venues', 'actors'],
  // The same boundaries biome.json draws for the packages: only store/ reaches LMDB, only venues/ reaches ccxt.
  venues: ['store', 'http'],
  store: ['venues', 'http'],
};
/** Globals refused in the pure folders (outside tests). */
const IMPURE_GLOBALS = new Set([
  'Date',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'performance',
]);

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (/\.(ts|mts|tsx)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** `src/<folder>` of an absolute path, or undefined outside src/ (a top-level file is its own folder: ''). */
function folderOf(abs) {
  const rel = relative(src, abs);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : '';
}

function allowedFrom(folder, target) {
  const rules = FORBIDDEN[folder];
  if (!rules) return true;
  if (rules[0] === '*') return rules.slice(1).includes(target);
  return !rules.includes(target);
}

const violations = [];
for (const file of walk(src)) {
  const folder = folderOf(file);
  const isTest = file.endsWith('.test.ts');
  if (isTest) continue;
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const report = (node, rule, message) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    violations.push(`${relative(root, file)}:${line + 1}:${character + 1} ${rule}: ${message}`);
  };
  const checkSpecifier = (node, spec) => {
    if (!spec.startsWith('.')) return;
    const target = folderOf(resolve(dirname(file), spec));
    if (target === undefined) {
      report(node, 'boundary', `'${spec}' leaves src/`);
      return;
    }
    if (target === folder || allowedFrom(folder, target)) return;
    report(
      node,
      'boundary',
      PURE.includes(folder)
        ? `${folder}/ is pure: it imports only xstate, zod and machines/, strategies/, domain/ (not '${spec}')`
        : `${folder}/ may not import ${target}/ ('${spec}'; STYLE.md boundaries)`,
    );
  };
  const pureCode = PURE.includes(folder);
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) checkSpecifier(node, node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      checkSpecifier(node, node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const lit = node.argument.literal;
      if (ts.isStringLiteral(lit)) checkSpecifier(node, lit.text);
    }
    if (pureCode) {
      if (
        ts.isPropertyAccessExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'Math' &&
        node.name.text === 'random'
      ) {
        report(node, 'determinism', `Math.random in ${folder}/: take a seeded generator (strategies/seeded-random.ts)`);
      } else if (ts.isIdentifier(node) && IMPURE_GLOBALS.has(node.text) && isGlobalReference(node)) {
        report(
          node,
          'determinism',
          `${node.text} in ${folder}/: take time as a value or an injected clock, never the wall clock or a timer`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

/** An identifier used as a value or type reference, not a property name, a declaration's name or a member key. */
function isGlobalReference(id) {
  const p = id.parent;
  if (!p) return false;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if (ts.isQualifiedName(p) && p.right === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isPropertySignature(p) || ts.isPropertyDeclaration(p)) && p.name === id)
    return false;
  if ((ts.isMethodDeclaration(p) || ts.isMethodSignature(p)) && p.name === id) return false;
  if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isFunctionDeclaration(p)) && p.name === id) return false;
  if (ts.isBindingElement(p)) return false;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) return false;
  return true;
}

if (violations.length > 0) {
  process.stderr.write(`${violations.join('\n')}\n${violations.length} boundary/determinism violation(s)\n`);
  process.exit(1);
}
process.stdout.write('check-boundaries: ok\n');
