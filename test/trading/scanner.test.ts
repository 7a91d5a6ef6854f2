import { execFile } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BosunGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import {
  getJson,
  type OrderViewJson,
  opsCopy,
  post,
  simGateway,
  simOrders,
  startVenue,
  TOKEN,
  tradingEnv,
  until,
} from './support.js';

/**
 * The symbol scanner end to end (issue 5 item 6) and the universe / screener / situations listeners (item 7):
 * Bosun as a process, the simulator through the real ccxt classes. The shortlist is steered the way an operator
 * would: blocking symbols in ops/policies.yaml, then a rescan. Strategies never size an order here
 * (MIN_TRADE_USDT is huge), so every order is the test's own and all of them can be accounted for.
 */
const run = promisify(execFile);
let sim: Simulator;
let bosun: BosunProcess;
let ops: string;
let gw: BosunGateway;

interface ScanJson {
  enabled: boolean;
  passAt: number | null;
  passes: number;
  venues: Record<string, { shortlist: string[]; scores: Array<{ symbol: string; score: number }> }>;
}

const scan = () => getJson<ScanJson>(`${bosun.screener}/scan`);
const symbolActors = async (): Promise<string[]> => {
  const tree = await getJson<{ tree: unknown }>(`${bosun.engine}/actors`);
  const ids: string[] = [];
  const walk = (n: { id: string; liveness?: string; children?: unknown[] }) => {
    if (n.id.startsWith('sym:binance:') && n.liveness === 'running') ids.push(n.id.slice('sym:binance:'.length));
    for (const c of n.children ?? []) walk(c as never);
  };
  walk((tree as { tree?: unknown }).tree ? ((tree as { tree: unknown }).tree as never) : (tree as never));
  return ids.sort();
};
const orders = async () => (await getJson<{ orders: OrderViewJson[] }>(`${bosun.engine}/orders?limit=1000`)).orders;

beforeAll(async () => {
  sim = await startVenue(41);
  ops = opsCopy();
  bosun = await startBosun(
    tradingEnv(sim, {
      OPS_DIR: ops,
      VENUES: 'binance',
      TRADE_SYMBOLS: 'BTCUSDT,ETHUSDT',
      SYMBOL_SCANNER_ENABLED: 'true',
      SYMBOL_SCANNER_TOP_N: '2',
      SYMBOL_SCANNER_INTERVAL_SEC: '3600',
      MIN_TRADE_USDT: '1000000',
      MAX_NOTIONAL_USDT: '100000',
    }),
  );
  gw = simGateway(sim, 'binance');
  await gw.loadMarkets();
}, 30_000);

afterAll(async () => {
  await bosun?.stop();
  await gw?.close();
  await sim?.close();
});

describe('symbol scanner', () => {
  let first: ScanJson;

  it('scores every tradable symbol, logs [SCAN], persists the shortlist and runs exactly its symbol actors', async () => {
    first = await until('the first scanner pass', async () => {
      const s = await scan();
      return s.passes >= 1 ? s : undefined;
    });
    const b = first.venues.binance;
    expect(b?.shortlist).toHaveLength(2);
    expect(b?.scores.length).toBe(Object.values(gw.markets('spot')).filter((m) => m.active).length);
    expect(bosun.lines.some((l) => String(l.msg).startsWith('[SCAN] binance: scored'))).toBe(true);
    const file = JSON.parse(readFileSync(join(bosun.stateDir, 'runtime', 'symbol_scanner_state.json'), 'utf8'));
    expect(file.venues.binance.shortlist).toEqual(b?.shortlist);
    await until('symbol actors match the shortlist', async () =>
      JSON.stringify(await symbolActors()) === JSON.stringify([...(b?.shortlist ?? [])].sort()) ? true : undefined,
    );
    const metrics = await (await fetch(`${bosun.engine}/metrics`)).text();
    // The score series covers the shortlist, with its venue, and nothing else.
    const scored = [...metrics.matchAll(/symbol_scanner_score\{venue="binance",symbol="([A-Z0-9]+)"\} [0-9.e-]+/g)].map(
      (m) => m[1],
    );
    expect(scored.sort()).toEqual([...(b?.shortlist ?? [])].sort());
    expect(metrics).toMatch(/symbol_scanner_selected_total [1-9]/);
  });

  it('a shortlist change stops and drains removed symbols, keeps protected ones and loses no order', async () => {
    const [a, b] = (first.venues.binance?.shortlist ?? []) as [string, string];
    const tickers = await gw.fetchTickers([a, b]);
    // A resting entry order on A (Bosun's own, through every rail).
    const pa = tickers[a]?.last as number;
    const mA = gw.markets('spot')[a];
    const limitPrice = Math.round((pa * 0.5) / (mA?.tickSize ?? 0.01)) * (mA?.tickSize ?? 0.01);
    const entry = await post(`${bosun.engine}/orders`, {
      symbol: `${a}.BINANCE`,
      side: 'BUY',
      type: 'limit',
      price: Number(limitPrice.toFixed(8)),
      quote: 50,
    });
    expect(entry.status, JSON.stringify(entry.body)).toBe(201);
    const entryCid = (entry.body.order as OrderViewJson).clientOrderId;
    // A position in B (an operator buy) and a server-side stop protecting it, adopted by reconciliation.
    const buy = await post(`${bosun.engine}/orders`, { symbol: `${b}.BINANCE`, side: 'BUY', quote: 100 });
    expect(buy.status, JSON.stringify(buy.body)).toBe(201);
    const bought = (buy.body.order as OrderViewJson).filled;
    const pb = tickers[b]?.last as number;
    const mB = gw.markets('spot')[b];
    const step = mB?.stepSize || 0.0001;
    const stopPrice = Math.round((pb * 0.8) / (mB?.tickSize ?? 0.01)) * (mB?.tickSize ?? 0.01);
    const amount = Math.floor((bought * 0.9) / step) * step;
    const stop = await gw.createOrder({
      clientOrderId: 'test-stop-b-1',
      symbol: b,
      side: 'sell',
      type: 'stop_loss_limit',
      amount: Number(amount.toFixed(8)),
      price: Number(stopPrice.toFixed(8)),
      stopPrice: Number(stopPrice.toFixed(8)),
      market: 'spot',
    });
    expect(stop.status).not.toBe('rejected');
    expect((await post(`${bosun.engine}/reconcile/manual`, undefined)).status).toBe(200);

    // The operator blocks both: A must go, B stays because its stop protects a position.
    writeFileSync(join(ops, 'policies.yaml'), `version: 1\nsymbols:\n  blocked: [${a}, ${b}]\n`);
    const next = await until(
      'a shortlist without A',
      async () => {
        const r = await post(`${bosun.engine}/scanner/rescan`, undefined);
        const list = (r.body.shortlist as Record<string, string[]> | undefined)?.binance ?? [];
        return r.status === 200 && !list.includes(a) ? list : undefined;
      },
      20_000,
    );
    expect(next).toContain(b);
    expect(next.filter((s) => s !== b)).toHaveLength(2);
    expect(next).not.toContain(a);
    await until('symbol actors follow the new shortlist', async () =>
      JSON.stringify(await symbolActors()) === JSON.stringify([...next].sort()) ? true : undefined,
    );

    // At the venue: A's entry is cancelled; B's stop is untouched.
    const atVenue = await until('the entry order cancelled at the venue', () => {
      const all = simOrders(sim, 'binance');
      const e = all.find((o) => o.clientOrderId === entryCid);
      return e && e.status === 'canceled' ? all : undefined;
    });
    expect(atVenue.find((o) => o.clientOrderId === 'test-stop-b-1')?.status).toBe('new');

    // LMDB accounts for every order, with the venue's outcome.
    const ours = await until('LMDB settled', async () => {
      const all = await orders();
      return all.find((o) => o.clientOrderId === entryCid)?.status === 'cancelled' ? all : undefined;
    });
    const byId = new Map(atVenue.map((o) => [o.id, o]));
    for (const o of ours) {
      const v = o.venueOrderId ? byId.get(o.venueOrderId) : undefined;
      expect(v, `${o.clientOrderId} at the venue`).toBeDefined();
    }
    expect(ours.map((o) => o.clientOrderId).sort()).toEqual(expect.arrayContaining([entryCid, 'test-stop-b-1'].sort()));
    expect(ours.find((o) => o.clientOrderId === 'test-stop-b-1')?.status).not.toBe('cancelled');
  }, 40_000);

  it('touching the state file forces a fresh pass', async () => {
    const before = (await scan()).passes;
    const path = join(bosun.stateDir, 'runtime', 'symbol_scanner_state.json');
    const future = new Date(Date.now() + 60_000);
    utimesSync(path, future, future);
    await until('a pass after the touch', async () => ((await scan()).passes > before ? true : undefined));
  });

  it('POST /scanner/rescan is authenticated, idempotent and audited', async () => {
    const before = (await scan()).passes;
    const noToken = await post(`${bosun.engine}/scanner/rescan`, undefined, { token: false });
    expect(noToken.status).toBe(401);
    expect((noToken.body.error as { code: string }).code).toBe('UNAUTHORIZED');
    expect((await scan()).passes).toBe(before);
    const key = `rescan-${Date.now()}`;
    const r1 = await post(`${bosun.engine}/scanner/rescan`, undefined, { key });
    const r2 = await post(`${bosun.engine}/scanner/rescan`, undefined, { key });
    expect(r1.status).toBe(200);
    expect(r2.body).toEqual(r1.body);
    expect((await scan()).passes).toBe(before + 1);
    const audit = await getJson<{ records: Array<{ action: string; idempotencyKey?: string }> }>(
      `${bosun.ops}/audit?limit=100&action=scanner.rescan`,
    );
    expect(audit.records.filter((r) => r.idempotencyKey === key)).toHaveLength(1);
  });
});

describe('universe, screener and situations listeners', () => {
  const tools = ['/usr/bin/curl'].every((p) => existsSync(p));
  const sh = async (cmd: string) => {
    const c = cmd
      .replaceAll('http://localhost:8009', bosun.universe)
      .replaceAll('http://localhost:8010', bosun.screener)
      .replaceAll('http://localhost:8011', bosun.situations);
    return (await run('bash', ['-c', c], { env: { PATH: process.env.PATH } })).stdout;
  };

  it.skipIf(!tools)('answers the runbook\'s health curls with {"ok": true}', async () => {
    expect(JSON.parse(await sh('curl http://localhost:8009/health'))).toEqual({ ok: true });
    expect(JSON.parse(await sh('curl http://localhost:8011/health'))).toEqual({ ok: true });
    expect(JSON.parse(await sh('curl http://localhost:8010/scan')).venues.binance.shortlist.length).toBeGreaterThan(0);
  });

  it('GET /universe lists tradable symbols per venue with their filters', async () => {
    const u = await getJson<{ venues: Record<string, Array<Record<string, unknown>>> }>(`${bosun.universe}/universe`);
    const btc = u.venues.binance?.find((m) => m.symbol === 'BTCUSDT');
    expect(btc).toMatchObject({ base: 'BTC', quote: 'USDT' });
    for (const k of ['minQty', 'stepSize', 'tickSize', 'minNotional']) expect(typeof btc?.[k]).toBe('number');
  });

  it('GET /situations lists incidents with since and what to do', async () => {
    const halt = await post(`${bosun.ops}/kill`, { enabled: false, venue: 'binance', reason: 'test halt' });
    expect(halt.status).toBe(200);
    const s = await getJson<{ count: number; situations: Array<Record<string, unknown>> }>(
      `${bosun.situations}/situations`,
    );
    const v = s.situations.find((x) => x.id === 'trading:venue:binance');
    expect(v).toMatchObject({ kind: 'trading', state: 'HALTED' });
    expect(typeof v?.since).toBe('number');
    expect(String(v?.whatToDo)).toMatch(/POST \/kill/);
    expect((await post(`${bosun.ops}/kill`, { enabled: true, venue: 'binance' })).status).toBe(200);
  });

  it('bad input gets a 4xx JSON error and the screener rate-limits per client with a 429 JSON', async () => {
    for (const url of [
      `${bosun.universe}/universe?venue=nope`,
      `${bosun.screener}/scan?limit=0`,
      `${bosun.screener}/scan?bogus=1`,
      `${bosun.situations}/situations?kind=NOT%20A%20KIND`,
    ]) {
      const r = await fetch(url);
      expect(r.status, url).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
    const rs = await Promise.all(Array.from({ length: 40 }, () => fetch(`${bosun.screener}/scan`)));
    const limited = rs.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    const body = (await limited[0]?.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(limited[0]?.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('executor routes answer 409 JSON when the executor is disabled, and need the token', async () => {
    expect((await post(`${bosun.engine}/executor/stop`, undefined, { token: false })).status).toBe(401);
    const r = await post(`${bosun.engine}/executor/stop`, undefined);
    expect(r.status).toBe(409);
    expect((r.body.error as { code: string }).code).toBe('CONFLICT');
    expect(TOKEN.length).toBeGreaterThan(0);
  });
});
