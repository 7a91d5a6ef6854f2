#!/usr/bin/env node
/**
 * Shows that the money-path campaign has teeth (issue 13): reverts ONE of the money-path fixes in a throw-away copy
 * of the working tree and runs the in-suite campaign (witnesses + both seeded files) against it. Each fix is a list
 * of exact text replacements that put the old behaviour back; a replacement that no longer matches stops the script
 * (the fix moved: update its patch here).
 *
 *   node scripts/revert-one-fix.mjs --list
 *   node scripts/revert-one-fix.mjs 1          # reservations off; prints which invariants failed
 *   SIM_SEEDS=40 node scripts/revert-one-fix.mjs all
 *
 * One JSON line per fix: `caughtBy` (every invariant that failed) from `campaign` (the seeded files' violation
 * lines) and `witnesses` (each failing fixed schedule of witnesses.test.ts, with the invariants its violations
 * name), `replay` (a failing seed's command) and `log` (the run's whole output, kept in the temp dir).
 *
 * Fixes 2 (reconciliation fails closed), 8 (one book), 9 (precision) and 10 (REDUCING set by the system) are outside
 * what the campaign's steps reach; their regression tests are in test/trading/money-path.test.ts,
 * src/actors/account-book.test.ts and test/trading/guards.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** fix → [file, old text, new text][] (the new text is the behaviour before the fix). */
const FIXES = {
  1: {
    what: 'exposure caps against settled exposure only (no reservations)',
    patches: [
      [
        'src/actors/engine/order-submit.ts',
        'const reserved = ctx.slots.reserved(intent.venue, m.base);',
        'const reserved = { symbolUsdt: 0, venueUsdt: 0, assetUsdt: 0 };',
      ],
    ],
  },
  3: {
    what: 'boot accepts before it reconciles, and does not re-apply restored halts',
    patches: [
      [
        'src/actors/engine/reconciliation.ts',
        'const unreconciled = new Set<string>(ctx.venues.keys());',
        'const unreconciled = new Set<string>();',
      ],
      [
        'src/actors/engine/boot-recovery.ts',
        '  d.engine.takeSlots();\n  const reconciled = await d.engine.reconcileAll();\n  d.engine.setAccepting(true);\n  const cancelled = await d.engine.cancelRefused();',
        '  d.engine.setAccepting(true);\n  const reconciled = await d.engine.reconcileAll();\n  const cancelled = 0;',
      ],
    ],
  },
  4: {
    what: 'the halt re-check before the stop release; the fatal path cancels everything at the venue',
    patches: [
      [
        'src/actors/engine/order-submit.ts',
        "    if (intent.side === 'sell' && deps.stops && intent.strategy !== 'operator') {",
        "    if (refusedBy(inputs.trading(intent.venue, intent.symbol), reduces))\n      return abandon(intent, record, 'trading_halted', 'trading was halted before the order was sent');\n    if (intent.side === 'sell' && deps.stops && intent.strategy !== 'operator') {",
      ],
      [
        'src/actors/engine/order-submit.ts',
        "    if (refusedBy(inputs.trading(intent.venue, intent.symbol), reduces))\n      return abandon(intent, record, 'trading_halted', 'trading was halted before the order was sent');\n    if (isUnreconciled",
        '    if (isUnreconciled',
      ],
      [
        'test/simulation/sut.ts',
        'await cancelOwnEntries(store.orders, new Map([[env.venue, gate.gateway]]), env.log).catch(() => 0);',
        'await Promise.allSettled([gate.gateway.cancelAllOrders()]);',
      ],
    ],
  },
  5: {
    what: 'the Idempotency-Key is not journaled with the intent (a retry after a crash places again)',
    patches: [
      ['src/actors/engine/order-entry.ts', '    if (!req.idempotency) return undefined;', '    return undefined;'],
    ],
  },
  6: {
    what: 'no incarnation (the sequence restarts with a fresh state directory); a Duplicate answer is looked up',
    patches: [
      [
        'src/actors/engine/order-ids.ts',
        'const cid = clientOrderId({ node: deps.node, venue, symbol, strategy, seq, incarnation });',
        'const cid = clientOrderId({ node: deps.node, venue, symbol, strategy, seq });',
      ],
      [
        'src/venues/error-classifier.ts',
        "DuplicateOrderId: { kind: 'fatal', tag: 'duplicate' },",
        "DuplicateOrderId: { kind: 'fatal', tag: 'duplicate', createUnknown: true },",
      ],
    ],
  },
  7: {
    what: 'the first-boot baseline is not the trade cursor (recent trades are replayed on top of it)',
    patches: [
      [
        'src/actors/engine/order-lifecycle.ts',
        '      if (rec === undefined && t.timestamp <= baselineAt) continue;\n',
        '',
      ],
    ],
  },
};

function run(fix) {
  const f = FIXES[fix];
  const dir = mkdtempSync(join(tmpdir(), `bosun-revert-${fix}-`));
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (src) => !/\/(node_modules|dist|state|\.git)(\/|$)/.test(src.slice(ROOT.length)),
  });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const [file, from, to] of f.patches) {
    const p = join(dir, file);
    const text = readFileSync(p, 'utf8');
    if (!text.includes(from)) throw new Error(`fix ${fix}: '${from.slice(0, 60)}…' not found in ${file}`);
    writeFileSync(p, text.replace(from, to));
  }
  const r = spawnSync('npx', ['vitest', 'run', 'test/simulation', '--reporter=verbose'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SIM_KNOWN_FAILING: 'none' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = stripAnsi(`${r.stdout}\n${r.stderr}`);
  const log = join(tmpdir(), `bosun-revert-${fix}.log`);
  writeFileSync(log, out);
  const campaign = invariantsIn(out, /\b(I[1-8]) \(/g);
  const witnesses = witnessFailures(out);
  const caught = [...new Set([...campaign, ...witnesses.flatMap((w) => w.caughtBy)])].sort();
  const replay = out.match(/SIM_ONLY=\S+ SIM_SEED=\S+ SIM_PATH=\S+ npx vitest run \S+/)?.[0] ?? null;
  rmSync(dir, { recursive: true, force: true });
  return {
    fix: Number(fix),
    reverted: f.what,
    failed: r.status !== 0,
    caughtBy: caught,
    campaign,
    witnesses,
    replay,
    log,
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are what it removes.
const stripAnsi = (text) => text.replace(/\u001b\[[0-9;]*m/g, '');

/** The invariants a pattern's first group names in `text`, once each, sorted. */
const invariantsIn = (text, re) => [...new Set([...text.matchAll(re)].map((m) => m[1]))].sort();

/**
 * Failures of the fixed witness schedules: each is an `expect(violations).toEqual([])` whose diff lists the
 * violations as objects (`"inv": "I8",`). The invariant is read from the violations, not from the test's title:
 * a witness written for one invariant may be caught by another.
 */
function witnessFailures(out) {
  const blocks = out.split(/^ *FAIL +/m).slice(1);
  return blocks
    .filter((b) => b.startsWith('test/simulation/witnesses.test.ts'))
    .map((b) => ({
      test: (b.split('\n')[0] ?? '').split(' > ').at(-1)?.trim() ?? '',
      caughtBy: invariantsIn(b, /"inv": "(I[1-8])"/g),
    }));
}

const arg = process.argv[2];
if (!arg || arg === '--list') {
  for (const [n, f] of Object.entries(FIXES)) console.log(`${n}: ${f.what}`);
  process.exit(0);
}
const which = arg === 'all' ? Object.keys(FIXES) : [arg];
for (const n of which) {
  if (!FIXES[n]) throw new Error(`no fix ${n} (see --list)`);
  console.log(JSON.stringify(run(n)));
}
