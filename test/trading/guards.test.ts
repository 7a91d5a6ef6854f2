import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliContext, CliFailure, UsageError } from '../../src/cli/cli-context.js';
import { depeg } from '../../src/cli/depeg-rearm.js';
import type { GuardView } from '../../src/supervisor/guards-port.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { makeWorker } from '../support/worker.js';
import { type Pipeline, startPipeline } from './guards-pipeline.js';
import { post, startVenue, TOKEN, until } from './support.js';

/**
 * The runbook's "Depeg detected" and "Funding spike" playbooks as scenario tests against the simulator, through
 * the real pipeline in-process (real ccxt, LMDB, supervisor, engine listener).
 */
const DEPEG_ID = 'guard:depeg:binance';
const FUNDING_ID = 'guard:funding:binance';
/** Stands in for the stop validator: a guard that joins guards:binance through `extend`. */
const EXTRA_ID = 'guard:stopval:binance';

async function guards(p: Pipeline): Promise<GuardView[]> {
  const r = await fetch(`${p.url}/guards`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { guards: GuardView[] }).guards;
}
async function guard(p: Pipeline, id: string): Promise<GuardView> {
  const g = (await guards(p)).find((x) => x.id === id);
  if (!g) throw new Error(`no ${id}`);
  return g;
}
/** Waits until the depeg guard has taken `n` more observations (no sleeps: the guard's own clock of polls). */
async function observations(p: Pipeline, n: number): Promise<void> {
  const start = Number((await guard(p, DEPEG_ID)).state.lastObsAt ?? 0);
  let seen = start;
  let count = 0;
  await until(`${n} depeg observations`, async () => {
    const t = Number((await guard(p, DEPEG_ID)).state.lastObsAt ?? 0);
    if (t > seen) {
      seen = t;
      count += 1;
    }
    return count >= n ? true : undefined;
  });
}
const order = (p: Pipeline, symbol: string, quote = 20) =>
  post(`${p.url}/orders`, { symbol: `${symbol}.BINANCE`, side: 'BUY', quote });
const strategyHolding = (p: Pipeline, symbol: string) => p.trading.book.strategyPosition('binance', symbol);
const hedgeHolding = (p: Pipeline, symbol: string) => p.trading.book.hedgePosition('binance', symbol);
async function metric(p: Pipeline, name: string): Promise<number> {
  const text = await p.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}
const COMMON = {
  DEPEG_THRESHOLD_PCT: '0.5',
  DEPEG_CONFIRM_SEC: '1',
  DEPEG_COOLDOWN_SEC: '0',
  FEED_POLL_MS: '150',
  MAX_NOTIONAL_USDT: '100000',
  MIN_TRADE_USDT: '5',
};

describe('depeg guard with DEPEG_EXIT_RISK=false, and the funding guard', () => {
  let sim: Simulator;
  let p: Pipeline;
  let crashNext = false;

  beforeAll(async () => {
    sim = await startVenue(31);
    p = await startPipeline(
      sim,
      {
        ...COMMON,
        DEPEG_EXIT_RISK: 'false',
        FUNDING_SPIKE_THRESHOLD_PCT: '0.1',
        FUNDING_TRIM_PCT: '50',
        FUNDING_HEDGE_RATIO: '0.5',
        FUNDING_POLL_SEC: '1',
      },
      {
        beforeStart: (trading) => {
          trading.guards.extend((venue) =>
            venue === 'binance'
              ? [
                  {
                    spec: { id: EXTRA_ID, src: 'stopval', flavour: 'guard', input: { name: 'stopval' } },
                    logics: { stopval: makeWorker([], new Set()) },
                  },
                ]
              : [],
          );
          trading.guards.register({
            id: EXTRA_ID,
            kind: 'stopval',
            venue: 'binance',
            view: () => ({ active: false, reason: '', state: {} }),
          });
        },
        beforePublish: (id) => {
          if (id === DEPEG_ID && crashNext) {
            crashNext = false;
            throw new Error('injected guard crash');
          }
        },
      },
    );
  }, 30_000);

  afterAll(async () => {
    await p?.close();
    await sim?.close();
  });

  it('lists the guards under guards:binance, armed', async () => {
    const all = await guards(p);
    expect(all.map((g) => g.id).sort()).toEqual([DEPEG_ID, FUNDING_ID, EXTRA_ID]);
    expect(all.find((g) => g.id === EXTRA_ID)).toMatchObject({ running: true, active: false, kind: 'stopval' });
    const sup = p.runtime.root().system.get('guards:binance');
    // The stop validator (stopval:<venue>) is a guard child too, beside the test's stand-in joined via extend().
    expect(Object.keys(sup?.getSnapshot().children ?? {}).sort()).toEqual([
      DEPEG_ID,
      FUNDING_ID,
      EXTRA_ID,
      'stopval:binance',
    ]);
    const d = await until('a depeg observation', async () => {
      const g = await guard(p, DEPEG_ID);
      return g.state.lastObsAt ? g : undefined;
    });
    expect(d).toMatchObject({ running: true, active: false, health: 'OK', kind: 'depeg' });
    expect(Number(d.state.deviationPct)).toBeLessThan(0.5);
    expect(p.runtime.root().system.get('guards:binance')).toBeDefined();
  });

  it('a funding spike trims the perpetual with a reduce-only order and hedges with BTC at the ratio', async () => {
    const open = await p.gateway.createOrder({
      clientOrderId: 'testperp1',
      symbol: 'ETHUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.2,
      market: 'linear',
    });
    expect(open.status).toBe('accepted');
    sim.scenario({ kind: 'funding_spike', symbol: 'ETHUSDT', rate: 0.005 });
    const f = await until(
      'a trim and a hedge',
      async () => {
        const g = await guard(p, FUNDING_ID);
        return Number(g.state.trims) >= 1 && Number(g.state.hedges) >= 1 ? g : undefined;
      },
      15_000,
    );
    expect(f).toMatchObject({ active: true, health: 'DEGRADED', reason: 'funding_spike' });
    expect(f.state.spiking).toEqual(['ETHUSDT']);

    const acct = sim.state({ venue: 'binance' }).accounts.find((a) => a.apiKey === sim.keys.binance.apiKey);
    const mine = sim.state({ venue: 'binance' }).orders.filter((o) => o.account === acct?.id);
    const trims = mine.filter((o) => o.market === 'perp' && o.reduceOnly && o.symbol === 'ETHUSDT');
    expect(trims).toHaveLength(1);
    const trim = trims[0]!;
    expect(trim.side.toLowerCase()).toBe('sell');
    expect(trim.executedQty).toBeCloseTo(0.1, 2);
    expect(acct?.futures.positions.find((x) => x.symbol === 'ETHUSDT')?.qty).toBeCloseTo(0.1, 2);
    const hedges = mine.filter((o) => o.market === 'spot' && o.symbol === 'BTCUSDT' && o.clientOrderId.includes('-g-'));
    expect(hedges).toHaveLength(1);
    const ethMark = Number(
      sim.prices('binance')['binance:perp:ETHUSDT'] ?? sim.prices('binance')['binance:spot:ETHUSDT'],
    );
    const btc = Number(sim.prices('binance')['binance:spot:BTCUSDT']);
    const hedgeUsd = hedges[0]!.executedQty * btc;
    expect(Math.abs(hedgeUsd - 0.5 * trim.executedQty * ethMark) / hedgeUsd).toBeLessThan(0.03);

    // orders.jsonl has both: the trim as the funding guard's, the hedge under its own owner.
    const rows = p
      .ordersJsonl()
      .filter((r) => r.type === 'order.intent' && (r.strategy === 'funding' || r.strategy === 'funding-hedge'));
    expect(rows.map((r) => [r.symbol, r.side, r.market ?? 'spot', r.reduceOnly])).toEqual([
      ['ETHUSDT', 'sell', 'linear', true],
      ['BTCUSDT', 'buy', 'spot', false],
    ]);
    expect(await metric(p, 'funding_trims_total')).toBe(1);
    expect(await metric(p, 'funding_hedges_total')).toBe(1);
    expect(await metric(p, 'funding_spike_active')).toBe(1);
    const rate = (await p.metrics.registry.metrics())
      .split('\n')
      .find((l) => l.startsWith('funding_rate_pct{symbol="ETHUSDT"}'));
    expect(Number(rate?.split(' ').at(-1))).toBeCloseTo(0.5, 6);
    // The spike is trimmed once, not on every poll.
    const polled = Number(f.state.lastPollAt);
    await until('another funding poll', async () =>
      Number((await guard(p, FUNDING_ID)).state.lastPollAt) > polled ? true : undefined,
    );
    expect(Number((await guard(p, FUNDING_ID)).state.trims)).toBe(1);
  });

  it("the simulator's depeg halts USDT entries within the confirmation window; USDC entries still trade", async () => {
    const held = await until('the funding hedge’s own BTC position', () => {
      const h = hedgeHolding(p, 'BTCUSDT');
      return h > 0 ? h : undefined;
    });
    expect((await order(p, 'BTCUSDT')).status).toBe(201);
    sim.scenario({ kind: 'depeg', pct: 2 });
    const g = await until('the depeg guard HALTED', async () => {
      const v = await guard(p, DEPEG_ID);
      return v.active ? v : undefined;
    });
    expect(g).toMatchObject({ health: 'HALTED', reason: 'depeg_trigger', running: true });
    const confirmedAfter = Number(g.state.trippedAt) - Number(g.state.breachSince);
    expect(confirmedAfter).toBeGreaterThanOrEqual(1_000);
    expect(Number(g.state.usdtUsdc)).toBeLessThan(0.99);
    expect(await metric(p, 'risk_depeg_active')).toBe(1);

    const refused = await order(p, 'BTCUSDT');
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: 'ORDER_REJECTED' }, reason: 'depeg' });
    expect((await order(p, 'BTCUSDC')).status).toBe(201);

    // DEPEG_EXIT_RISK=false: existing positions stay.
    await observations(p, 4);
    expect(hedgeHolding(p, 'BTCUSDT')).toBe(held);
    expect(p.ordersJsonl().some((r) => r.strategy === 'depeg')).toBe(false);
  });

  it('re-arm refuses while parity is still broken, and bad input changes nothing', async () => {
    const before = await guard(p, DEPEG_ID);
    const r = await post(`${p.url}/guards/depeg/rearm`, {});
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: { code: 'CONFLICT' } });
    expect(String((r.body.error as { message: string }).message)).toContain('parity is still broken');
    const bad = await post(`${p.url}/guards/depeg/rearm`, { force: true });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(String((bad.body.error as { message: string }).message)).toContain('force');
    // `bosun depeg rearm` calls the same route and exits 1 on the refusal.
    const printed: string[] = [];
    const cli: CliContext = {
      opsUrl: p.url,
      engineUrl: p.url,
      promUrl: 'http://127.0.0.1:1',
      stateDir: '/nonexistent',
      opsDir: 'ops',
      token: TOKEN,
      actor: 'cli',
      json: false,
      out: (t) => void printed.push(t),
      err: (t) => void printed.push(t),
    };
    const refused = await depeg(cli, ['rearm']).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CliFailure);
    expect(String((refused as Error).message)).toMatch(/answered 409: CONFLICT/);
    await expect(depeg({ ...cli, token: undefined }, ['rearm'])).rejects.toBeInstanceOf(UsageError);
    await expect(depeg(cli, ['re-arm'])).rejects.toBeInstanceOf(UsageError);
    expect(printed).toEqual([]);
    const noToken = await post(`${p.url}/guards/depeg/rearm`, {}, { token: false });
    expect(noToken.status).toBe(401);
    expect(noToken.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const after = await guard(p, DEPEG_ID);
    expect(after).toMatchObject({ active: true, reason: 'depeg_trigger' });
    expect(after.state.rearms).toBe(before.state.rearms);
    const audited = [...p.store.audit.readAll()].filter((a) => a.action === 'depeg.rearm');
    expect(audited.length).toBeGreaterThanOrEqual(1);
    expect(audited.every((a) => a.result !== 'ok')).toBe(true);
  });

  it('a guard that crashes in the middle of the halt restarts still halted; re-arm works once parity holds', async () => {
    crashNext = true;
    // Parity recovers: the guard's next publish (parity seen holding) crashes it.
    sim.scenario({ kind: 'depeg', pct: 0 });
    await until('the depeg guard restarted by guards:binance', () =>
      p.restarts.some((x) => x.child === DEPEG_ID) ? true : undefined,
    );
    const restarted = await until('the depeg guard running again', async () => {
      const v = await guard(p, DEPEG_ID);
      return v.running ? v : undefined;
    });
    expect(crashNext).toBe(false);
    expect(restarted).toMatchObject({ active: true, health: 'HALTED', reason: 'depeg_trigger' });
    expect((await order(p, 'BTCUSDT')).body).toMatchObject({ reason: 'depeg' });

    await until('parity seen holding', async () => ((await guard(p, DEPEG_ID)).state.heldSince ? true : undefined));
    const ok = await post(`${p.url}/guards/depeg/rearm`, { note: 'USDTUSDC back at 1' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ guard: { id: DEPEG_ID, active: false, health: 'OK' } });
    expect(await metric(p, 'risk_depeg_active')).toBe(0);
    const rec = [...p.store.audit.readAll()].filter((a) => a.action === 'depeg.rearm' && a.result === 'ok');
    expect(rec).toHaveLength(1);
    expect(rec[0]?.reason).toBe('USDTUSDC back at 1');
    expect((await order(p, 'BTCUSDT')).status).toBe(201);
    // Re-arming an armed guard is a conflict, not a silent success.
    expect((await post(`${p.url}/guards/depeg/rearm`, {})).status).toBe(409);
  });

  it('a second crash within the period starts the guard fail-closed (HALTED crash_loop) and the rails refuse', async () => {
    // Trip again, then crash twice in a row.
    sim.scenario({ kind: 'depeg', pct: 2 });
    await until('tripped again', async () => ((await guard(p, DEPEG_ID)).active ? true : undefined));
    const n = p.restarts.filter((x) => x.child === DEPEG_ID).length;
    crashNext = true;
    sim.scenario({ kind: 'depeg', pct: 0 });
    await until('second restart', () => (p.restarts.filter((x) => x.child === DEPEG_ID).length > n ? true : undefined));
    const v = await until('running', async () => {
      const g = await guard(p, DEPEG_ID);
      return g.running ? g : undefined;
    });
    // Restarted from LMDB with failClosed: still tripped, health HALTED with the crash-loop reason.
    expect(v).toMatchObject({ active: true, health: 'HALTED', reason: 'depeg_trigger', state: { failClosed: true } });
    expect((await order(p, 'BTCUSDT')).body).toMatchObject({ reason: 'depeg' });
  });
});

describe('depeg guard with DEPEG_EXIT_RISK=true', () => {
  let sim: Simulator;
  let p: Pipeline;

  beforeAll(async () => {
    sim = await startVenue(37);
    p = await startPipeline(sim, { ...COMMON, DEPEG_EXIT_RISK: 'true', FUNDING_GUARD_ENABLED: 'false' });
  }, 30_000);

  afterAll(async () => {
    await p?.close();
    await sim?.close();
  });

  it('reduces the strategies’ USDT exposure through the normal order path', async () => {
    expect((await guards(p)).map((g) => g.id)).toEqual([DEPEG_ID]);
    const bought = await p.trading.engine.submitStrategy({
      venue: 'binance',
      symbol: 'BTCUSDT',
      side: 'buy',
      quote: 200,
      strategy: 'trend',
      reason: 'test position',
    });
    expect(bought.status).toBe('accepted');
    const held = await until('the trend position', () => {
      const h = strategyHolding(p, 'BTCUSDT');
      return h > 0 ? h : undefined;
    });
    sim.scenario({ kind: 'depeg', pct: 3 });
    await until('the depeg guard HALTED', async () => ((await guard(p, DEPEG_ID)).active ? true : undefined));
    await until('the position reduced', () => (strategyHolding(p, 'BTCUSDT') < held * 0.01 ? true : undefined));
    const exits = p.ordersJsonl().filter((r) => r.type === 'order.intent' && r.strategy === 'depeg');
    expect(exits.length).toBeGreaterThanOrEqual(1);
    expect(exits.every((r) => r.side === 'sell' && r.reduceOnly === true && r.symbol === 'BTCUSDT')).toBe(true);
    // The ledger moves at the fill; its orders.jsonl line follows the journal's commit.
    await until('the exit fill in orders.jsonl', () =>
      p.ordersJsonl().some((r) => r.type === 'order.fill' && r.strategy === 'depeg') ? true : undefined,
    );
    // The exit put the symbol it unwinds in REDUCING (DESIGN §3): visible in governance, entries refused there.
    expect(p.runtime.governance().symbols['binance:BTCUSDT']).toMatchObject({
      state: 'REDUCING',
      reason: 'depeg_exit',
    });
    expect((await order(p, 'BTCUSDT')).body).toMatchObject({ reason: 'trading_reducing' });
  });

  it('an operator sell of a held asset passes during the depeg (it reduces exposure)', async () => {
    const held = p.trading.book.ledger().venues.binance?.balances.ETH ?? 0;
    expect(held).toBeGreaterThan(0);
    const r = await post(`${p.url}/orders`, { symbol: 'ETHUSDT.BINANCE', side: 'SELL', quote: 20 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    // A buy of the same asset is a new USDT entry: refused by the depeg guard.
    expect((await order(p, 'ETHUSDT')).body).toMatchObject({ reason: 'depeg' });
  });

  it('a restart of the whole pipeline restores the trip from LMDB: still HALTED even though parity is back', async () => {
    const before = await guard(p, DEPEG_ID);
    expect(before.active).toBe(true);
    sim.scenario({ kind: 'depeg', pct: 0 });
    await p.close({ keep: true });
    p = await startPipeline(
      sim,
      { ...COMMON, DEPEG_EXIT_RISK: 'true', FUNDING_GUARD_ENABLED: 'false' },
      { stateDir: p.stateDir },
    );
    const after = await guard(p, DEPEG_ID);
    expect(after).toMatchObject({ running: true, active: true, health: 'HALTED', reason: 'depeg_trigger' });
    expect(after.state).toMatchObject({ trippedAt: before.state.trippedAt, trips: before.state.trips });
    // The REDUCING the exit set is durable too: still refused as reducing-only.
    expect((await order(p, 'BTCUSDT')).body).toMatchObject({ reason: 'trading_reducing' });
    expect((await order(p, 'SOLUSDT')).body).toMatchObject({ reason: 'depeg' });
    // Parity has to be seen holding again in this incarnation before a re-arm.
    await until('parity seen holding', async () => ((await guard(p, DEPEG_ID)).state.heldSince ? true : undefined));
    expect((await post(`${p.url}/guards/depeg/rearm`, {})).status).toBe(200);
    // Re-armed: the system clears its own REDUCING (never an operator's), and the symbol trades again.
    await until('the depeg REDUCING cleared', () =>
      p.runtime.governance().symbols['binance:BTCUSDT']?.state === 'ACTIVE' ? true : undefined,
    );
  });
});
