import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, verifyAuditChain } from '../../src/store/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { getJson, opsCopy, startVenue, tradingEnv } from '../trading/support.js';

/**
 * The `bosun` CLI (issue 6 item 5) against one built Bosun (`dist/main.bundle.mjs`, what `npm start` runs) trading on a
 * simulator owned by the test, so the venue outlives Bosun. Then `bosun backup` while it runs, stop, `bosun
 * restore` into a fresh state dir, boot again on the restored state and compare the portfolio, the orders and
 * the audit chain. The ops token is the paper-mode one Bosun writes to state/ops_token (no OPS_API_TOKEN).
 */
const CLI = resolve(import.meta.dirname, '../../dist/cli/bosun.js');
const exec = promisify(execFile);

let sim: Simulator;
let bosun: BosunProcess;
let env: Record<string, string>;
const stateDir = mkdtempSync(join(tmpdir(), 'bosun-cli-state-'));

interface Valued {
  ledger: unknown;
  valuation: { venues: Record<string, { holdings: Record<string, { amount: number }> }> };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the simulator in this process must keep answering). */
async function cli(args: string[], extraEnv: Record<string, string> = {}, b: BosunProcess = bosun): Promise<Run> {
  const base = ['--ops-url', b.ops, '--engine-url', b.engine, '--state-dir', b.stateDir, '--ops-dir', env.OPS_DIR!];
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...base, ...args], {
      env: { PATH: process.env.PATH, USER: 'cli-tester', ...extraEnv },
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}
const json = async (args: string[], extraEnv: Record<string, string> = {}) => {
  const r = await cli([...args, '--json'], extraEnv);
  expect(r.stderr, r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

beforeAll(async () => {
  sim = await startVenue(41);
  const { OPS_API_TOKEN: _paperModeGeneratesIt, ...e } = tradingEnv(sim, { BAR_MS: '3600000' });
  env = e;
  bosun = await startBosun(env, stateDir);
}, 30_000);

afterAll(async () => {
  await bosun?.stop();
  await sim?.close();
});

describe('bosun status / kill / resume', () => {
  it('prints the status for humans and as JSON', async () => {
    const r = await cli(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^trading_enabled {2}true$/m);
    expect(r.stdout).toMatch(/^health {11}OK/m);
    const j = await json(['status']);
    expect(j).toMatchObject({ trading_enabled: true, trading_state: 'ACTIVE', ready: true });
  });

  it('pauses and resumes with the token from state/ops_token, audited under $USER', async () => {
    expect(existsSync(join(stateDir, 'ops_token'))).toBe(true);
    const k = await cli(['kill']);
    expect(k.code).toBe(0);
    expect(k.stdout).toMatch(/^paused global: trading_state HALTED, trading_enabled false \(audit #\d+\)/);
    expect(await json(['status'])).toMatchObject({ trading_enabled: false, trading_state: 'HALTED' });
    const r = await json(['resume']);
    expect(r).toMatchObject({ trading_enabled: true, trading_state: 'ACTIVE' });
    const audit = (await getJson<{ records: Array<{ actor: string; action: string }> }>(`${bosun.ops}/audit?limit=2`))
      .records;
    expect(audit.map((a) => [a.actor, a.action])).toEqual([
      ['cli-tester', 'resume'],
      ['cli-tester', 'kill'],
    ]);
  });
});

describe('bosun weights', () => {
  it('shows the weights, then sets them into ops/strategy_weights.json', async () => {
    const shown = await json(['weights']);
    expect(shown).toHaveProperty('weights');
    const set = await cli(['weights', 'set', '--stable', '0.6', '--canary', '0.4']);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('weights set: stable_model 0.6, canary_model 0.4\n');
    const file = JSON.parse(readFileSync(join(env.OPS_DIR!, 'strategy_weights.json'), 'utf8'));
    expect(file.weights).toEqual({ stable_model: 0.6, canary_model: 0.4 });
    expect((await json(['weights', 'show'])).weights).toEqual({ stable_model: 0.6, canary_model: 0.4 });
  });

  it('refuses a weight outside 0..1 as a usage error, writing nothing', async () => {
    const before = readFileSync(join(env.OPS_DIR!, 'strategy_weights.json'), 'utf8');
    const r = await cli(['weights', '--stable', '1.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--stable expects a number in range, got '1.5'");
    expect(readFileSync(join(env.OPS_DIR!, 'strategy_weights.json'), 'utf8')).toBe(before);
  });
});

describe('bosun order / reconcile / audit', () => {
  let clientOrderId: string;
  it('places the runbook test order through every rail', async () => {
    const j = await json(['order', 'BTCUSDT.BINANCE', 'BUY', '25']);
    expect(j).toMatchObject({
      status: 'accepted',
      order: { venue: 'binance', symbol: 'BTCUSDT', side: 'buy', quote: 25 },
    });
    clientOrderId = (j.order as { clientOrderId: string }).clientOrderId;
    const orders = await getJson<{ orders: Array<{ clientOrderId: string }> }>(`${bosun.engine}/orders`);
    expect(orders.orders.map((o) => o.clientOrderId)).toContain(clientOrderId);
  });

  it('says a rail refused an order and exits 1', async () => {
    const r = await cli(['order', 'BTCUSDT.BINANCE', 'BUY', '5000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^order rejected \(/);
  });

  it('reconciles with the token, so the run is audited', async () => {
    const r = await cli(['reconcile']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^reconciled: \d+ fills applied/);
    const a = await json(['audit', '--action', 'reconcile', '--limit', '5']);
    expect((a.records as Array<{ actor: string }>).map((x) => x.actor)).toEqual(['cli-tester']);
  });

  it('lists the audit log newest first, filtered by actor and limited', async () => {
    const all = (await json(['audit', '--actor', 'cli-tester'])).records as Array<{ seq: number; action: string }>;
    expect(all.map((x) => x.action)).toEqual(['reconcile', 'order', 'order', 'strategy.weights', 'resume', 'kill']);
    const two = await cli(['audit', '--limit', '2']);
    expect(two.code).toBe(0);
    expect(two.stdout.trim().split('\n')).toHaveLength(2);
    expect(two.stdout).toMatch(/^#\d+ \d{4}-\d\d-\d\dT.* cli-tester reconcile all ok$/m);
    expect((await json(['audit', '--actor', 'nobody'])).records).toEqual([]);
  });

  it('passes the exporter smoke check against the running process', async () => {
    const r = await cli(['smoke', 'exporter']);
    expect(r.stdout).toContain('smoke exporter: ok');
    expect(r.code).toBe(0);
  });
});

describe('bosun usage errors and failures', () => {
  // Independent runs, started together: each is a fresh `node` process.
  it('exits 2 with a clear message on bad command lines, before any request', async () => {
    const cases: Array<[string[], string]> = [
      [['frobnicate'], "unknown command 'frobnicate'"],
      [['order', 'BTCUSDT.BINANCE', 'HOLD', '25'], "side must be BUY or SELL, got 'HOLD'"],
      [['order', 'BTCUSDT.BINANCE'], 'order needs <SYMBOL.VENUE> <BUY|SELL> <quote USD>'],
      [['audit', '--limit', 'lots'], "--limit expects a number in range, got 'lots'"],
      [['status', '--colour'], "Unknown option '--colour'"],
      [['smoke', 'everything'], "smoke takes 'exporter' or 'prom', got 'everything'"],
      [['kill', '--state-dir', mkdtempSync(join(tmpdir(), 'bosun-empty-'))], 'no ops token: export OPS_API_TOKEN'],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => {
      expect({ args: cases[i]?.[0], code: r.code, stdout: r.stdout }).toEqual({
        args: cases[i]?.[0],
        code: 2,
        stdout: '',
      });
      expect(r.stderr).toContain(cases[i]?.[1]);
    });
  });

  it('exits 1 when Bosun refuses (wrong token: 401) or does not answer', async () => {
    const [wrong, unreachable] = await Promise.all([
      cli(['kill'], { OPS_API_TOKEN: 'not-the-token-0123456789abcdef' }),
      cli(['status', '--ops-url', 'http://127.0.0.1:1']),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/POST \/kill answered 401/);
    expect(await json(['status'])).toMatchObject({ trading_enabled: true });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach http://127.0.0.1:1/status');
  });
});

describe('bosun backup → restore into a fresh state dir', () => {
  it('brings back the same portfolio, orders and audit chain', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'bosun-backups-'));
    const amounts = (st: Valued) =>
      Object.fromEntries(
        Object.entries(st.valuation.venues).map(([v, x]) => [
          v,
          Object.fromEntries(Object.entries(x.holdings).map(([a, h]) => [a, h.amount])),
        ]),
      );
    const state0 = await getJson<Valued>(`${bosun.engine}/state`);
    const before = {
      ledger: state0.ledger,
      amounts: amounts(state0),
      orders: (await getJson<{ orders: unknown[] }>(`${bosun.engine}/orders?limit=1000`)).orders,
      audit: (await getJson<{ records: Array<{ seq: number; hash: string }> }>(`${bosun.ops}/audit?limit=1000`))
        .records,
    };
    expect(before.orders.length).toBeGreaterThan(0);

    const b = await json(['backup', '--out', outDir]);
    expect(b.source).toBe('online');
    const tarball = b.tarball as string;
    expect(tarball).toMatch(/bosun-backup-\d{4}-\d\d-\d\dT[\d-]+Z\.tar\.gz$/);
    const paths = (b.files as Array<{ path: string }>).map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'state/db/data.mdb',
        'state/portfolio.json',
        'state/logs/orders.jsonl',
        'state/logs/audit.jsonl',
        'ops/strategy_weights.json',
        'ops/capital_allocations.json',
        'ops/policies.yaml',
      ]),
    );
    // The online copy under state/backups/ is removed once archived.
    expect(existsSync(join(stateDir, 'backups')) ? readdirSync(join(stateDir, 'backups')) : []).toEqual([]);

    // Restore refuses while Bosun answers.
    const fresh = mkdtempSync(join(tmpdir(), 'bosun-restored-'));
    const refused = await cli(['restore', tarball, '--state-dir', fresh]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Bosun is running at');
    expect(existsSync(join(fresh, 'db'))).toBe(false);
    // A Bosun on ports the CLI does not know still holds its LMDB open: --force does not get past that.
    const held = await cli([
      'restore',
      tarball,
      '--force',
      '--ops-url',
      'http://127.0.0.1:1',
      '--engine-url',
      'http://127.0.0.1:1',
    ]);
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/data\.mdb is open in process \d+/);
    expect(existsSync(join(stateDir, 'db', 'data.mdb'))).toBe(true);

    const first = bosun;
    await first.stop();
    // Refuses to overwrite a state dir that holds an environment (without --force).
    const overwrite = await cli(['restore', tarball]);
    expect(overwrite.code).toBe(1);
    expect(overwrite.stderr).toContain('already holds an LMDB environment');
    // With Bosun stopped the CLI copies LMDB itself.
    const offline = await json(['backup', '--out', outDir]);
    expect(offline.source).toBe('offline');

    const opsDir = opsCopy();
    const r = await cli(['restore', tarball, '--state-dir', fresh, '--ops-dir', opsDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`restored ${tarball}`);
    expect(JSON.parse(readFileSync(join(opsDir, 'strategy_weights.json'), 'utf8')).weights).toEqual({
      stable_model: 0.6,
      canary_model: 0.4,
    });

    env = { ...env, OPS_DIR: opsDir };
    bosun = await startBosun(env, fresh);
    const state1 = await getJson<Valued>(`${bosun.engine}/state`);
    const after = {
      ledger: state1.ledger,
      amounts: amounts(state1),
      orders: (await getJson<{ orders: unknown[] }>(`${bosun.engine}/orders?limit=1000`)).orders,
      audit: (await getJson<{ records: unknown[] }>(`${bosun.ops}/audit?limit=1000`)).records,
    };
    expect((await getJson(`${bosun.ops}/status`)).snapshot_loaded).toBe(true);
    expect(after.ledger).toEqual(before.ledger);
    expect(after.amounts).toEqual(before.amounts);
    expect(after.orders).toEqual(before.orders);
    expect(after.audit).toEqual(before.audit);
    await bosun.stop();

    const store = await openStore({ dir: join(fresh, 'db') });
    try {
      expect(verifyAuditChain(store)).toEqual({ ok: true, count: before.audit.length });
    } finally {
      await store.close();
    }
    const mirror = readFileSync(join(fresh, 'logs', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(mirror.map((l) => (JSON.parse(l) as { hash: string }).hash)).toEqual(
      [...before.audit].reverse().map((a) => a.hash),
    );
  }, 60_000);
});
