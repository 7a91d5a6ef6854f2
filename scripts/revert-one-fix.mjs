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
 * Numbering follows issue 13's list of fixes ("What to build" 2): 2 reconciliation fails closed, 8 one book,
 * 9 REDUCING set by the system (and reduce-only passes during a depeg), 10 stop orders in `GET /orders`; their
 * campaign invariants are I9–I12 (test/simulation/views-checks.ts), beside the regression tests in
 * test/trading/money-path.test.ts, src/actors/account-book.test.ts and test/trading/guards.test.ts. 11 is the one
 * precision module ("What to build" 1, the "Why" list's 9: money in doubles), whose campaign invariant is I13
 * (test/simulation/invariants.ts), beside src/domain/precision.test.ts and src/domain/portfolio.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** Source text of the patches below: `#{` stands for the code's own `${` (its template literals). */
const src = (s) => s.replaceAll('#{', '${');
const UNSETTLED_THROW = src(
  "    throw new AppError(\n      'VENUE_UNAVAILABLE',\n      `#{venue}: balances moved between the two reads three times in a row; not reconciled (retried later)`,\n    );\n",
);
const DEPEG_ENTER = src("          await d.reducing.enter('symbol', `#{v.id}:#{symbol}`, 'depeg_exit');\n");
/** Fix 11's halves: the limit price journaled as asked (ccxt rounds what it sends); the ledger's raw double sums. */
const LIMIT_TO_TICK = [
  'src/actors/engine/order-submit.ts',
  '        ? limitPriceToTick(intent.limitPrice, m.tickSize, intent.side)\n',
  '        ? intent.limitPrice\n',
];
const LEDGER_CLEAN_SUM = [
  'src/domain/portfolio.ts',
  '    balances[asset] = cleanAdd(balances[asset] ?? 0, delta);\n',
  '    balances[asset] = (balances[asset] ?? 0) + delta;\n',
];
const DEPEG_BEFORE_REDUCE = src(
  "  if (c.guards.depegActive && USDT_QUOTES.has(i.quote))\n    return no('depeg', `depeg guard active: no new #{i.quote} entries`);\n  if (i.reduceOnly) return OK;\n",
);

/** fix → [file, old text, new text][] (the new text is the behaviour before the fix). */
const FIXES = {
  1: {
    what: 'exposure caps against settled exposure only (no reservations)',
    patches: [
      [
        'src/actors/engine/order-submit.ts',
        'const reserved = ctx.slots.reserved(venue, base);',
        'const reserved = { symbolUsdt: 0, venueUsdt: 0, assetUsdt: 0 };',
      ],
    ],
  },
  2: {
    what: 'a reconciliation whose balances keep moving between its reads counts as reconciled (fails open)',
    patches: [['src/actors/engine/reconciliation.ts', UNSETTLED_THROW, '']],
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
        "    if (intent.side === 'sell' && s.kind === 'spot' && deps.stops && intent.strategy !== 'operator') {",
        "    if (refusedBy(inputs.trading(intent.venue, intent.symbol), reduces))\n      return abandon(intent, record, 'trading_halted', 'trading was halted before the order was sent');\n    if (intent.side === 'sell' && s.kind === 'spot' && deps.stops && intent.strategy !== 'operator') {",
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
        '      if ((rec === undefined || rec.adoptedAt !== undefined) && t.timestamp <= baselineAt) continue;\n',
        '',
      ],
    ],
  },
  8: {
    what: "two books: /status's equity, cash and balances from the venue's last poll, not the ledger",
    patches: [
      [
        'src/actors/account-book.ts',
        "        out[venue] = { equity_usd: v.equityUsd, cash_usd: v.cashUsd, source: 'ledger', assets };",
        "        const polled = venues.get(venue)?.summary;\n        out[venue] = { equity_usd: polled?.equityUsd ?? v.equityUsd, cash_usd: polled?.cashUsd ?? v.cashUsd, source: 'ledger', assets };",
      ],
      [
        'src/actors/account-book.ts',
        '          const total = ledger[asset] ?? 0;',
        '          const total = seen ? (seen[asset]?.total ?? 0) : (ledger[asset] ?? 0);',
      ],
    ],
  },
  9: {
    what: 'the depeg exit does not set REDUCING; during a depeg every USDT order, a sell too, is refused `depeg`',
    patches: [
      ['src/actors/guard-orders.ts', DEPEG_ENTER, ''],
      ['src/domain/rails.ts', '  if (i.reduceOnly) return OK;\n', DEPEG_BEFORE_REDUCE],
    ],
  },
  /** Fix 9 for the funding guard: its trim goes out, the symbol stays ACTIVE (I14; not part of `all`'s 9). */
  '9c': {
    what: 'a funding trim does not set REDUCING (the trimmed symbol stays ACTIVE while the spike lasts)',
    patches: [
      [
        'src/actors/guard-orders.ts',
        "      if (trimmed) await d.reducing.enter('symbol', `#{venue}:#{plan.symbol}`, 'funding_trim');\n",
        '',
      ].map(src),
    ],
  },
  /** Fix 9 for auto-cutback: its multiplier reaches the floor at the drawdown limit, global stays ACTIVE (I15). */
  '9d': {
    what: 'auto-cutback at its floor at the drawdown limit does not set global REDUCING',
    patches: [['src/actors/allocation-guards.ts', '      drawdownPct >= maxDrawdownPct && atFloor(),', '      false,']],
  },
  /** Each half of fix 9 alone (the table reports 9; these show that each half is caught by itself). */
  '9a': {
    what: 'the depeg exit does not set REDUCING (its sells go out, the symbol stays ACTIVE)',
    patches: [['src/actors/guard-orders.ts', DEPEG_ENTER, '']],
  },
  '9b': {
    what: 'during a depeg a sell of a held asset is refused `depeg`',
    patches: [['src/domain/rails.ts', '  if (i.reduceOnly) return OK;\n', DEPEG_BEFORE_REDUCE]],
  },
  10: {
    what: 'GET /orders lists only the orders store: no protective stops, no kind',
    patches: [
      [
        'src/actors/trading-port.actors.ts',
        '      for (const v of stopViews(d.stopValidators)) if (keep(v)) out.push(v);\n',
        '',
      ],
      [
        'src/actors/trading-port.actors.ts',
        "        const v = { kind: 'order' as const, ...toOrderView(r) };",
        '        const v = toOrderView(r);',
      ],
    ],
  },
  11: {
    what: 'money in doubles: limit prices journaled unrounded (ccxt rounds what it sends), the ledger adds raw doubles',
    patches: [LIMIT_TO_TICK, LEDGER_CLEAN_SUM],
  },
  /** Each half of fix 11 alone. */
  '11a': {
    what: 'the limit price is journaled as asked, not on the tick ccxt rounds it to when it sends it',
    patches: [LIMIT_TO_TICK],
  },
  '11b': {
    what: 'the ledger adds raw doubles (binary noise: 0.000697000000000003, 49974.932570000004)',
    patches: [LEDGER_CLEAN_SUM],
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
  // The patch check fails in a reverted copy by design (its patch no longer applies there): not a finding.
  rmSync(join(dir, 'test/simulation/revert-patches.test.ts'), { force: true });
  const r = spawnSync('npx', ['vitest', 'run', 'test/simulation', '--reporter=verbose'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SIM_KNOWN_FAILING: 'none', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = stripAnsi(`${r.stdout}\n${r.stderr}`);
  const log = join(tmpdir(), `bosun-revert-${fix}.log`);
  writeFileSync(log, out);
  const campaign = invariantsIn(out, /\b(I(?:1[0-5]|[1-9])) \(/g);
  const witnesses = witnessFailures(out);
  const caught = [...new Set([...campaign, ...witnesses.flatMap((w) => w.caughtBy)])].sort();
  const replay = out.match(/(?:SIM_ONLY=\S+ )?SIM_SEED=\S+ SIM_PATH=\S+ npx vitest run \S+/)?.[0] ?? null;
  rmSync(dir, { recursive: true, force: true });
  return {
    fix: /^\d+$/.test(fix) ? Number(fix) : fix,
    reverted: f.what,
    failed: r.status !== 0,
    caughtBy: caught,
    campaign,
    witnesses,
    replay,
    log,
    // A failure no invariant names (a timeout, a crash of the run) shows its end instead.
    ...(r.status !== 0 && caught.length === 0 ? { unexplained: out.slice(-2000) } : {}),
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
      caughtBy: invariantsIn(b, /"inv": "(I\d+)"/g),
    }));
}

const arg = process.argv[2];
if (!arg || arg === '--list') {
  for (const [n, f] of Object.entries(FIXES)) console.log(`${n}: ${f.what}`);
  process.exit(0);
}
if (arg === '--check') {
  // Every patch still applies to the tree (the code it reverts has not moved): one line per fix, exit 1 if not.
  let stale = 0;
  for (const [n, f] of Object.entries(FIXES)) {
    const missing = f.patches.filter(([file, from]) => !readFileSync(join(ROOT, file), 'utf8').includes(from));
    stale += missing.length > 0 ? 1 : 0;
    console.log(`${n}: ${missing.length === 0 ? 'applies' : `STALE in ${missing.map(([file]) => file).join(', ')}`}`);
  }
  process.exit(stale > 0 ? 1 : 0);
}
const which = arg === 'all' ? Object.keys(FIXES).filter((n) => /^\d+$/.test(n)) : [arg];
for (const n of which) {
  if (!FIXES[n]) throw new Error(`no fix ${n} (see --list)`);
  console.log(JSON.stringify(run(n)));
}
