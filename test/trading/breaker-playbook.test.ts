import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type InProcessBosun, startInProcess } from './in-process.js';
import { getJson, type OrderViewJson, post, simBalances, startVenue, until } from './support.js';

/**
 * The runbook's "Circuit breaker tripped" playbook end to end (issue 5: "a venue error burst trips the breaker,
 * and the operator reset restores trading"), through the real stack in this process: ccxt against the
 * simulator, LMDB, the supervised actors and both HTTP listeners. Faults and price moves go through the
 * simulator's control API, everything Bosun-side through its routes.
 */
interface BreakerJson {
  id: string;
  tripped: boolean;
  reason: string;
  since: number | null;
}
interface ActorJson {
  id: string;
  liveness: string;
  health: string;
  reason: string;
  restarts: number;
  children: ActorJson[];
}

async function breaker(b: InProcessBosun, id: string): Promise<BreakerJson> {
  const all = (await getJson<{ breakers: BreakerJson[] }>(`${b.engine}/breakers`)).breakers;
  const found = all.find((x) => x.id === id);
  if (!found) throw new Error(`no breaker ${id} in ${JSON.stringify(all)}`);
  return found;
}

async function actorNode(b: InProcessBosun, id: string): Promise<ActorJson> {
  const find = (n: ActorJson): ActorJson | undefined => {
    if (n.id === id) return n;
    for (const c of n.children) {
      const f = find(c);
      if (f) return f;
    }
    return undefined;
  };
  const node = find(await getJson<ActorJson>(`${b.engine}/actors`));
  if (!node) throw new Error(`no actor ${id} in /actors`);
  return node;
}

/** Sum of the samples of `name` whose labels contain every `labels` pair. */
async function metric(b: InProcessBosun, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${b.engine}/metrics`)).text();
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
    seen = true;
  }
  if (!seen) throw new Error(`no sample of ${name} ${JSON.stringify(labels)}`);
  return sum;
}

async function auditCount(b: InProcessBosun, action: string): Promise<number> {
  return (await getJson<{ records: unknown[] }>(`${b.ops}/audit?action=${action}&limit=1000`)).records.length;
}

async function simControl(sim: Simulator, method: string, path: string, body?: unknown) {
  const r = await fetch(`${sim.baseUrl}/__sim/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const order = (b: InProcessBosun, symbol: string, side = 'BUY', quote = 25) =>
  post(`${b.engine}/orders`, { symbol, side, quote });

const FILLED = async (b: InProcessBosun, cid: string) =>
  until(`order ${cid} filled`, async () => {
    const o = (await getJson<{ orders: OrderViewJson[] }>(`${b.engine}/orders?limit=1000`)).orders.find(
      (x) => x.clientOrderId === cid,
    );
    return o?.status === 'filled' ? o : undefined;
  });

// Strategies stay quiet (hour bars): the only orders are the test's. The venue breaker trips at 50 % errors over
// the last 10 venue requests (it judges after 10); the equity breaker cools down in 1 s.
const ENV = {
  BAR_MS: '3600000',
  VENUE_ERROR_BREAKER_PCT: '50',
  VENUE_ERROR_WINDOW: '10',
  EQUITY_COOLDOWN_SEC: '1',
  ORDER_COOLDOWN_SEC: '0',
};
const VB = 'breaker:binance:venue';

describe('circuit breaker tripped: the venue error-rate breaker', () => {
  let sim: Simulator;
  let bosun: InProcessBosun;
  let faultId: string;
  let tripSince: number;

  beforeAll(async () => {
    sim = await startVenue(41);
    bosun = await startInProcess(sim, ENV);
    await until('both venues priced', async () => {
      const v = (await getJson<{ valuation: { unpricedAssets: string[] } }>(`${bosun.engine}/state`)).valuation;
      return v.unpricedAssets.every((a) => a === 'BNB') ? true : undefined;
    });
  }, 15_000);

  afterAll(async () => {
    await bosun?.stop();
    await sim?.close();
  });

  it('a burst of venue errors on binance trips its breaker; binance entries are refused, kraken still trades', async () => {
    expect((await breaker(bosun, VB)).tripped).toBe(false);
    const errorsBefore = await metric(bosun, 'engine_venue_errors_total', { venue: 'binance' }).catch(() => 0);
    const rejectsBefore = await metric(bosun, 'breaker_rejections_total', { reason: 'venue_breaker' }).catch(() => 0);

    // Every binance request answers 503 from now on; the feed keeps polling it every 200 ms.
    const f = await simControl(sim, 'POST', 'faults', { kind: 'http_5xx', venue: 'binance', status: 503 });
    expect(f.status).toBe(201);
    faultId = f.body.id as string;

    const tripped = await until(
      'the binance venue breaker tripped',
      async () => {
        const b = await breaker(bosun, VB);
        return b.tripped ? b : undefined;
      },
      10_000,
    );
    expect(tripped.reason).toMatch(/^venue_error_rate: \d+%$/);
    expect(tripped.since).toBeTypeOf('number');
    tripSince = tripped.since as number;
    const node = await actorNode(bosun, VB);
    expect(node.health).toBe('HALTED');
    expect(node.reason).toBe(tripped.reason);
    expect(await metric(bosun, 'venue_error_rate_pct', { venue: 'binance' })).toBeGreaterThanOrEqual(50);
    expect(await metric(bosun, 'engine_venue_errors_total', { venue: 'binance' })).toBeGreaterThan(errorsBefore);
    // The other venue's breaker is untouched.
    expect((await breaker(bosun, 'breaker:kraken:venue')).tripped).toBe(false);

    // An operator entry on binance is refused by the rails, before it reaches the venue.
    const creates = sim.requests().byPath['POST /api/v3/order'] ?? 0;
    const refused = await order(bosun, 'BTCUSDT.BINANCE');
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('venue_breaker');
    expect((refused.body.error as { code: string }).code).toBe('ORDER_REJECTED');
    expect(sim.requests().byPath['POST /api/v3/order'] ?? 0).toBe(creates);
    expect(await metric(bosun, 'breaker_rejections_total', { reason: 'venue_breaker' })).toBe(rejectsBefore + 1);

    // Kraken still trades.
    const ok = await order(bosun, 'ETHUSDT.KRAKEN');
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    await FILLED(bosun, (ok.body.order as OrderViewJson).clientOrderId);
  });

  it('a reset without the token is 401 and changes nothing; a reset while the venue still fails re-trips (fail closed)', async () => {
    const resetsBefore = await auditCount(bosun, 'breaker.reset');
    const anon = await post(`${bosun.engine}/breakers/${VB}/reset`, undefined, { token: false });
    expect(anon.status).toBe(401);
    expect((anon.body.error as { code: string }).code).toMatch(/UNAUTHORI[SZ]ED/);
    const still = await breaker(bosun, VB);
    expect(still.tripped).toBe(true);
    expect(still.since).toBe(tripSince);
    expect(await auditCount(bosun, 'breaker.reset')).toBe(resetsBefore);
    const unknown = await post(`${bosun.engine}/breakers/breaker:nowhere:venue/reset`, undefined);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND' });
    expect((unknown.body.error as { message: string }).message).toMatch(/breaker:binance:venue/);
    // An authenticated command that failed is audited as such; nothing was reset.
    const failed = (
      await getJson<{ records: Array<Record<string, unknown>> }>(`${bosun.ops}/audit?action=breaker.reset&limit=1`)
    ).records[0];
    expect(failed).toMatchObject({ target: 'breaker:nowhere:venue', result: 'error' });
    expect(await breaker(bosun, VB)).toMatchObject({ tripped: true, since: tripSince });

    // The fault is still on: the reset clears the window, and the next failures trip it again.
    const reset = await post(`${bosun.engine}/breakers/${VB}/reset`, undefined);
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect((reset.body.breaker as BreakerJson).tripped).toBe(false);
    expect(await auditCount(bosun, 'breaker.reset')).toBe(resetsBefore + 2);
    const again = await until(
      'the breaker re-tripped',
      async () => {
        const b = await breaker(bosun, VB);
        return b.tripped ? b : undefined;
      },
      10_000,
    );
    expect(again.since as number).toBeGreaterThan(tripSince);
    tripSince = again.since as number;
    const refused = await order(bosun, 'BTCUSDT.BINANCE');
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('venue_breaker');
  });

  it('a tripped breaker stays tripped across a restart of its actor and of the whole stack (same LMDB)', async () => {
    // The venue is healthy again, so only persisted state can keep the breaker tripped from here on.
    expect((await simControl(sim, 'DELETE', `faults/${faultId}`)).status).toBe(200);
    const okBefore = await metric(bosun, 'strategy_ticks_total', { venue: 'binance' });
    await until('binance ticks flow again', async () =>
      (await metric(bosun, 'strategy_ticks_total', { venue: 'binance' })) > okBefore + 3 ? true : undefined,
    );
    expect((await breaker(bosun, VB)).tripped).toBe(true);

    // 1. The supervisor restarts the breaker actor (operator command, audited).
    const restartsBefore = (await actorNode(bosun, VB)).restarts;
    const cmd = await post(`${bosun.engine}/actors/${VB}/events`, { type: 'sup.restartChild' });
    expect(cmd.status, JSON.stringify(cmd.body)).toBe(202);
    const node = await until('the breaker actor restarted', async () => {
      const n = await actorNode(bosun, VB);
      return n.restarts > restartsBefore && n.liveness === 'running' ? n : undefined;
    });
    expect(node.health).toBe('HALTED');
    const afterActor = await breaker(bosun, VB);
    expect(afterActor).toMatchObject({ tripped: true, since: tripSince });
    expect((await order(bosun, 'BTCUSDT.BINANCE')).body.reason).toBe('venue_breaker');

    // 2. The whole stack stops and boots again over the same state directory.
    const stateDir = bosun.stateDir;
    await bosun.stop();
    bosun = await startInProcess(sim, ENV, stateDir);
    const afterBoot = await breaker(bosun, VB);
    expect(afterBoot).toMatchObject({ tripped: true, since: tripSince });
    expect((await actorNode(bosun, VB)).health).toBe('HALTED');
    const refused = await order(bosun, 'BTCUSDT.BINANCE');
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('venue_breaker');
  }, 15_000);

  it('a restart in the same turn as a trip (before LMDB has committed it) keeps the trip', async () => {
    const kraken = 'breaker:kraken:venue';
    expect((await breaker(bosun, kraken)).tripped).toBe(false);
    const restartsBefore = (await actorNode(bosun, kraken)).restarts;
    // Outcomes straight into the actor and the restart command right after, synchronously: no commit can land
    // in between.
    const ref = bosun.runtime.root().system.get(kraken) as { send(e: unknown): void };
    for (let i = 0; i < 10; i++) ref.send({ type: 'breaker.result', ok: false, at: Date.now() });
    expect(bosun.runtime.send(kraken, { type: 'sup.restartChild' }).accepted).toBe(true);
    await until('the kraken breaker restarted', async () => {
      const n = await actorNode(bosun, kraken);
      return n.restarts > restartsBefore && n.liveness === 'running' ? n : undefined;
    });
    expect((await breaker(bosun, kraken)).tripped).toBe(true);
    const reset = await post(`${bosun.engine}/breakers/${kraken}/reset`, undefined);
    expect((reset.body.breaker as BreakerJson).tripped).toBe(false);
  });

  it('once the venue is healthy, the operator reset (token + Idempotency-Key, audited) restores trading', async () => {
    // Playbook step 3: trading is paused (kill switch) while the operator investigates.
    expect((await post(`${bosun.ops}/kill`, { enabled: false })).status).toBe(200);
    const key = `reset-${Date.now()}`;
    const reset = await post(`${bosun.engine}/breakers/${VB}/reset`, undefined, { key });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect(reset.body.breaker).toMatchObject({ id: VB, tripped: false, reason: '' });
    // The same key replays the answer instead of resetting twice.
    const replay = await post(`${bosun.engine}/breakers/${VB}/reset`, undefined, { key });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(reset.body);

    const audit = (
      await getJson<{ records: Array<{ action: string; target: string; actor: string; reason?: string }> }>(
        `${bosun.ops}/audit?action=breaker.reset&limit=1`,
      )
    ).records[0];
    expect(audit).toMatchObject({ action: 'breaker.reset', target: VB, actor: 'test', reason: 'reset' });

    expect((await actorNode(bosun, VB)).health).toBe('OK');
    expect(await metric(bosun, 'venue_error_rate_pct', { venue: 'binance' })).toBeLessThan(50);
    // Clearing the breaker does not override the kill switch: still halted until the operator resumes (step 5).
    const halted = await order(bosun, 'BTCUSDT.BINANCE');
    expect(halted.status).toBe(422);
    expect(halted.body.reason).toBe('trading_halted');
    expect((await post(`${bosun.ops}/kill`, { enabled: true })).status).toBe(200);
    const ok = await order(bosun, 'BTCUSDT.BINANCE');
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    await FILLED(bosun, (ok.body.order as OrderViewJson).clientOrderId);
    expect((await breaker(bosun, VB)).tripped).toBe(false);
  });
});

describe('circuit breaker tripped: the equity floor breaker', () => {
  let sim: Simulator;
  let bosun: InProcessBosun;
  const EB = 'breaker:equity';

  beforeAll(async () => {
    sim = await startVenue(43);
    // The floor sits half of the BTC holdings' value below equity: a 95 % BTC crash breaches it.
    const px = sim.prices('binance');
    const usd = (a: string) => (['USD', 'USDT', 'USDC'].includes(a) ? 1 : Number(px[`binance:spot:${a}USDT`] ?? 0));
    let equity = 0;
    let btc = 0;
    for (const v of ['binance', 'kraken'] as const)
      for (const [a, n] of Object.entries(simBalances(sim, v))) {
        if (a === 'BNB') continue; // not priced by Bosun (no BNB symbol traded)
        equity += n * usd(a);
        if (a === 'BTC') btc += n * usd(a);
      }
    bosun = await startInProcess(sim, { ...ENV, EQUITY_FLOOR_USD: String(Math.round(equity - btc / 2)) });
    await until('equity above the floor', async () => {
      const b = await breaker(bosun, EB);
      return !b.tripped && (await metric(bosun, 'risk_equity_buffer_usd')) > 0 ? true : undefined;
    });
  }, 15_000);

  afterAll(async () => {
    await bosun?.stop();
    await sim?.close();
  });

  it('equity below EQUITY_FLOOR_USD trips it and refuses entries; back above, it resets by itself after the cooldown', async () => {
    const rejectsBefore = await metric(bosun, 'breaker_rejections_total', { reason: 'equity_floor' }).catch(() => 0);
    const btc = Number(sim.prices('binance')['binance:spot:BTCUSDT']);
    const crash = await simControl(sim, 'POST', 'price', { venue: 'binance', symbol: 'BTCUSDT', price: btc * 0.05 });
    expect(crash.status).toBe(200);

    const tripped = await until('the equity breaker tripped', async () => {
      const b = await breaker(bosun, EB);
      return b.tripped ? b : undefined;
    });
    expect(tripped.reason).toBe('equity_floor');
    expect(await metric(bosun, 'risk_equity_floor_breach')).toBe(1);
    expect(await metric(bosun, 'risk_equity_buffer_usd')).toBeLessThan(0);
    expect(await metric(bosun, 'risk_equity_drawdown_pct')).toBeGreaterThan(0);
    expect((await actorNode(bosun, EB)).health).toBe('HALTED');

    for (const symbol of ['ETHUSDT.BINANCE', 'ETHUSDT.KRAKEN']) {
      const refused = await order(bosun, symbol);
      expect(refused.status).toBe(422);
      expect(refused.body.reason).toBe('equity_floor');
    }
    expect(await metric(bosun, 'breaker_rejections_total', { reason: 'equity_floor' })).toBe(rejectsBefore + 2);

    // An operator reset is refused while the buffer is negative: the breaker stays tripped.
    const early = await post(`${bosun.engine}/breakers/${EB}/reset`, undefined);
    expect(early.status).toBe(200);
    expect(early.body.breaker).toMatchObject({ tripped: true, reason: 'equity_floor' });

    // A restart of the breaker actor keeps the trip it had (the same one: same `since`), not boot time's state.
    const restartsBefore = (await actorNode(bosun, EB)).restarts;
    const cmd = await post(`${bosun.engine}/actors/${EB}/events`, { type: 'sup.restartChild' });
    expect(cmd.status, JSON.stringify(cmd.body)).toBe(202);
    await until('the equity breaker actor restarted', async () => {
      const n = await actorNode(bosun, EB);
      return n.restarts > restartsBefore && n.liveness === 'running' ? n : undefined;
    });
    expect(await breaker(bosun, EB)).toMatchObject({ tripped: true, reason: 'equity_floor', since: tripped.since });

    // Prices recover: the buffer turns positive and, after EQUITY_COOLDOWN_SEC, the breaker clears itself.
    const low = Number(sim.prices('binance')['binance:spot:BTCUSDT']);
    expect(
      (await simControl(sim, 'POST', 'price', { venue: 'binance', symbol: 'BTCUSDT', price: low / 0.05 })).status,
    ).toBe(200);
    const resetsBefore = await auditCount(bosun, 'breaker.reset');
    await until('the equity breaker reset by itself', async () => {
      const b = await breaker(bosun, EB);
      return b.tripped ? undefined : b;
    });
    expect(await auditCount(bosun, 'breaker.reset')).toBe(resetsBefore);
    expect(await metric(bosun, 'risk_equity_floor_breach')).toBe(0);
    expect(await metric(bosun, 'risk_equity_buffer_usd')).toBeGreaterThan(0);
    expect((await actorNode(bosun, EB)).health).toBe('OK');
    const ok = await order(bosun, 'ETHUSDT.KRAKEN');
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });
});
