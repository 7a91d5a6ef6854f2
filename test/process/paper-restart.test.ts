/**
 * The runbook's Restart & Recovery procedure in paper mode: the embedded simulator keeps its accounts, orders and
 * trades under state/sim, so after SIGTERM, and after kill -9 while orders are in flight, Bosun's boot
 * reconciliation finds every order and fill it knows at the venue: 0 mismatches, no venue halted, trading ACTIVE.
 * (Before the simulator persisted, every paper restart halted Binance with `reconcile_mismatch`.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';

const running: BosunProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

// Warm-up is not under test here (history-warmup.test covers it); a cold start keeps the boots short.
const ENV = { HISTORY_WARMUP_ENABLED: 'false', RECONCILE_INTERVAL_SEC: '3600' };

async function start(stateDir?: string): Promise<BosunProcess> {
  const p = await startBosun(ENV, stateDir);
  running.push(p);
  return p;
}

async function stop(p: BosunProcess, signal: NodeJS.Signals) {
  running.splice(running.indexOf(p), 1);
  return p.stop(signal);
}

type Recovery = {
  venues: Record<string, { mismatches: string[]; ordersResolved: number; fillsApplied: number; error?: string }>;
};

function recovery(p: BosunProcess): Recovery {
  const line = p.lines.find((l) => l.msg === 'boot recovery finished');
  if (line === undefined) throw new Error('no "boot recovery finished" line');
  return line as unknown as Recovery;
}

function order(p: BosunProcess, key: string, symbol: string, side: 'BUY' | 'SELL') {
  const token = readFileSync(join(p.stateDir, 'ops_token'), 'utf8').trim();
  return fetch(`${p.engine}/orders`, {
    method: 'POST',
    headers: { 'x-ops-token': token, 'idempotency-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ symbol, side, quote: 25 }),
  });
}

/** What the runbook's Validate step and an operator's dashboard check after a restart. */
async function expectHealthyAfterRestart(p: BosunProcess, manualReconcile = false) {
  const r = recovery(p);
  expect(Object.keys(r.venues).sort()).toEqual(['binance', 'kraken']);
  for (const v of Object.values(r.venues)) expect(v.mismatches).toEqual([]);
  const status = (await (await fetch(`${p.ops}/status`)).json()) as { trading_state: string };
  expect(status.trading_state).toBe('ACTIVE');
  for (const venue of ['binance', 'kraken']) {
    for (const id of [`venue:${venue}`, `account:${venue}`, `conn:${venue}`]) {
      const a = (await (await fetch(`${p.engine}/actors/${id}`)).json()) as { health: string; reason?: string };
      expect(a.health, `${id}: ${a.reason ?? ''}`).not.toBe('HALTED');
    }
  }
  expect((await fetch(`${p.engine}/readyz`)).status).toBe(200);
  if (!manualReconcile) return;
  const manual = (await (await fetch(`${p.engine}/reconcile/manual`, { method: 'POST' })).json()) as Recovery;
  for (const [venue, v] of Object.entries(manual.venues)) {
    expect(v.mismatches).toEqual([]);
    expect(v.error, venue).toBeUndefined();
  }
}

describe('paper restart (runbook Restart & Recovery)', () => {
  it('reconciles with 0 mismatches and stays ACTIVE after SIGTERM, then after kill -9 with orders in flight', async () => {
    const p1 = await start();
    const first = await Promise.all([
      order(p1, 'r-1', 'BTCUSDT.BINANCE', 'BUY'),
      order(p1, 'r-2', 'BTCUSDT.KRAKEN', 'BUY'),
    ]);
    for (const res of first) expect(res.status).toBe(201);
    expect((await stop(p1, 'SIGTERM')).code).toBe(0);

    const p2 = await start(p1.stateDir);
    await expectHealthyAfterRestart(p2);
    expect(
      p2.lines.find((l) => String(l.msg).startsWith('paper mode: embedded exchange simulator listening')),
    ).toMatchObject({
      resumed: true,
    });

    // Orders in flight on both venues when the process dies: some acknowledged, some sent, some not yet.
    const inFlight = [
      order(p2, 'r-3', 'BTCUSDT.BINANCE', 'SELL'),
      order(p2, 'r-4', 'BTCUSDT.KRAKEN', 'SELL'),
      order(p2, 'r-5', 'ETHUSDT.BINANCE', 'BUY'),
      order(p2, 'r-6', 'ETHUSDT.KRAKEN', 'BUY'),
    ].map((r) => r.then((x) => x.status).catch(() => 'cut'));
    await Promise.race(inFlight);
    await stop(p2, 'SIGKILL');
    await Promise.all(inFlight);

    const p3 = await start(p1.stateDir);
    await expectHealthyAfterRestart(p3, true);
    // Three boots' reconciliations and the manual one on Kraken's starter counter (15 calls, 0.33/s decay): the
    // manual run waits for the budget (settlement class) rather than answering an error, ~25 s under load.
  }, 120_000);
});
