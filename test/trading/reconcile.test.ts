import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/venues/index.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import type { VenueGateway } from '../../src/venues/venue-gateway.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { getJson, type OrderViewJson, post, relDiff, simBalances, startVenue, tradingEnv, until } from './support.js';

/**
 * Reconciliation (issue 4 item 9) against a venue that changes behind Bosun's back: a manual trade, an order
 * Bosun does not know, a fill missed while Bosun was down, and a balance nothing explains (which halts the venue).
 */
let sim: Simulator;
let bosun: BosunProcess;
let manual: VenueGateway;
const stateDir = mkdtempSync(join(tmpdir(), 'bosun-recon-'));
let env: Record<string, string>;
const execFileAsync = promisify(execFile);

interface ReconcileBody {
  fills_applied: number;
  venues: Record<string, { fillsApplied: number; ordersAdopted: number; ordersResolved: number; mismatches: string[] }>;
}

const reconcile = async () => {
  // The runbook's line exactly: `curl -X POST http://localhost:8003/reconcile/manual` (no token, no body).
  const r = await fetch(`${bosun.engine}/reconcile/manual`, { method: 'POST' });
  expect(r.status).toBe(200);
  return (await r.json()) as ReconcileBody;
};

const ledgerMatches = async (venue: 'binance' | 'kraken') => {
  const state = await getJson<{ ledger: { venues: Record<string, { balances: Record<string, number> }> } }>(
    `${bosun.engine}/state`,
  );
  const ledger = state.ledger.venues[venue]?.balances ?? {};
  const bal = simBalances(sim, venue);
  return [...new Set([...Object.keys(ledger), ...Object.keys(bal)])]
    .filter((a) => relDiff(ledger[a] ?? 0, bal[a] ?? 0) >= 1e-9)
    .map((a) => `${a}: ledger ${ledger[a]} venue ${bal[a]}`);
};

beforeAll(async () => {
  sim = await startVenue(31);
  env = tradingEnv(sim, { BAR_MS: '3600000', VENUES: 'binance' });
  bosun = await startBosun(env, stateDir);
  manual = createGateway('binance', {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    apiKey: sim.keys.binance.apiKey,
    secret: sim.keys.binance.secret,
  });
  await manual.loadMarkets();
}, 30_000);

afterAll(async () => {
  await bosun?.stop();
  await manual?.close();
  await sim?.close();
});

describe('make order (the runbook line, verbatim)', () => {
  it('submits the test order through every rail and prints the accepted order', async () => {
    // Async: the simulator lives in this process and must keep answering while make runs.
    const { stdout: out } = await execFileAsync(
      'make',
      ['order', 'ORDER_SYMBOL=BTCUSDT.BINANCE', 'ORDER_SIDE=BUY', 'ORDER_QUOTE=25'],
      {
        cwd: resolve(import.meta.dirname, '../..'),
        env: { PATH: process.env.PATH, OPS_API_TOKEN: env.OPS_API_TOKEN, ENGINE_URL: bosun.engine, USER: 'tester' },
        encoding: 'utf8',
      },
    );
    const body = JSON.parse(out) as { status: string; order: OrderViewJson };
    expect(body.status).toBe('accepted');
    expect(body.order).toMatchObject({
      venue: 'binance',
      symbol: 'BTCUSDT',
      side: 'buy',
      strategy: 'operator',
      quote: 25,
    });
  });
});

describe('reconciliation', () => {
  it('applies a manual trade made on the venue, once', async () => {
    const r = await manual.createOrder({
      clientOrderId: 'manual-trade-1',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      amount: 0.002,
      market: 'spot',
    });
    expect(r.status).toBe('accepted');
    // The venue's user-data stream reports every execution on the account, manual ones included, so the trade may
    // reach the ledger by stream before reconciliation runs; either way it is applied once.
    const first = await reconcile();
    expect(first.venues.binance?.mismatches).toEqual([]);
    // Applied twice, the ledger would be off the venue by the trade.
    expect(await ledgerMatches('binance')).toEqual([]);
    // The runbook's curl, verbatim but for the port: no token, no body, no content type.
    const { stdout } = await execFileAsync('sh', [
      '-c',
      `curl -sS -X POST http://localhost:${new URL(bosun.engine).port}/reconcile/manual`,
    ]);
    const again = JSON.parse(stdout) as ReconcileBody;
    expect(again.fills_applied).toBe(0);
    const status = await getJson<{ governance?: { venues?: Record<string, { state: string }> } }>(
      `${bosun.ops}/status`,
    );
    expect(status.governance?.venues?.binance?.state ?? 'ACTIVE').not.toBe('HALTED');
  });

  it('concurrent manual reconciliations share one run: the venue sees one run of trade reads', async () => {
    const trades = () => sim.requests().byPath['GET /api/v3/myTrades'] ?? 0;
    const t0 = trades();
    await reconcile();
    const one = trades() - t0;
    expect(one).toBeGreaterThan(0);
    const t1 = trades();
    const all = await Promise.all([reconcile(), reconcile(), reconcile(), reconcile()]);
    for (const r of all) expect(r.venues.binance?.mismatches).toEqual([]);
    expect(trades() - t1).toBe(one);
  });

  it('adopts an order the venue has and Bosun does not', async () => {
    const px = Number(sim.prices('binance')['binance:spot:ETHUSDT']);
    const r = await manual.createOrder({
      clientOrderId: 'manual-rest-1',
      symbol: 'ETHUSDT',
      side: 'buy',
      type: 'limit',
      price: Math.round(px * 0.5),
      amount: 0.01,
      market: 'spot',
    });
    expect(r.status).toBe('accepted');
    const out = await reconcile();
    expect(out.venues.binance?.ordersAdopted).toBe(1);
    const orders = (await getJson<{ orders: OrderViewJson[] }>(`${bosun.engine}/orders?venue=binance&limit=100`))
      .orders;
    const adopted = orders.find((o) => o.clientOrderId === 'manual-rest-1');
    expect(adopted?.strategy).toBe('external');
    expect(adopted?.status).toBe('acknowledged');
    expect((await reconcile()).venues.binance?.ordersAdopted).toBe(0);
  });

  it('applies a fill missed while Bosun was down, at boot, before /readyz turns 200', async () => {
    const px = Number(sim.prices('binance')['binance:spot:BTCUSDT']);
    const limit = Math.round(px * 0.98);
    const placed = await post(`${bosun.engine}/orders`, {
      symbol: 'BTCUSDT.BINANCE',
      side: 'BUY',
      quote: 30,
      type: 'limit',
      price: limit,
    });
    expect(placed.status).toBe(201);
    const cid = (placed.body.order as OrderViewJson).clientOrderId;
    bosun.child.kill('SIGKILL');
    await bosun.exited;
    // While Bosun is down the market trades through the limit: the order fills at the venue.
    sim.setPrice({ venue: 'binance', symbol: 'BTCUSDT', price: limit * 0.99 });
    // The venue matches resting orders on its own clock (each price step): wait for that fill before Bosun comes
    // back, or a fast restart reconciles an order that is still resting and there is no missed fill to apply.
    const venueId = (placed.body.order as OrderViewJson).venueOrderId;
    await expect
      .poll(() => sim.state({ venue: 'binance' }).orders.find((x) => x.id === venueId)?.status, { timeout: 10_000 })
      .toBe('filled');
    bosun = await startBosun(env, stateDir);
    const o = (
      await getJson<{ orders: OrderViewJson[] }>(`${bosun.engine}/orders?venue=binance&limit=100`)
    ).orders.find((x) => x.clientOrderId === cid);
    expect(o?.status).toBe('filled');
    expect(await ledgerMatches('binance')).toEqual([]);
    expect((await getJson<{ snapshot_loaded: boolean }>(`${bosun.ops}/status`)).snapshot_loaded).toBe(true);
  }, 30_000);

  it('halts the venue when a balance cannot be explained, rather than guessing', async () => {
    const bal = simBalances(sim, 'binance');
    sim.setBalances({ venue: 'binance', spot: { ETH: (bal.ETH ?? 0) + 1.5 } });
    const out = await reconcile();
    expect(out.venues.binance?.mismatches.join(), JSON.stringify(out)).toMatch(/ETH/);
    const status = await until('binance halted', async () => {
      const s = await getJson<{ governance: { venues: Record<string, { state: string; reason: string }> } }>(
        `${bosun.ops}/status`,
      );
      return s.governance.venues.binance?.state === 'HALTED' ? s : undefined;
    });
    expect(status.governance.venues.binance?.reason).toBe('reconcile_mismatch');
  });

  it('an operator-corrected portfolio.json is loaded at boot as the baseline, audited, and the venue can resume', async () => {
    await bosun.stop();
    const path = join(stateDir, 'portfolio.json');
    const doc = JSON.parse(readFileSync(path, 'utf8')) as {
      ledger: { venues: Record<string, { balances: Record<string, number> }> };
    };
    const venueEth = simBalances(sim, 'binance').ETH ?? 0;
    const binanceLedger = doc.ledger.venues.binance;
    if (!binanceLedger) throw new Error('no binance ledger in portfolio.json');
    expect(binanceLedger.balances.ETH).not.toBe(venueEth);
    binanceLedger.balances.ETH = venueEth;
    writeFileSync(path, JSON.stringify(doc, null, 2));
    bosun = await startBosun(env, stateDir);
    expect(await ledgerMatches('binance')).toEqual([]);
    const audit = await getJson<{ records: Array<{ action: string; target: string; result: string }> }>(
      `${bosun.ops}/audit?action=portfolio.adjust&limit=5`,
    );
    expect(audit.records[0]).toMatchObject({ action: 'portfolio.adjust', target: 'venue:binance', result: 'applied' });
    expect((await reconcile()).venues.binance?.mismatches).toEqual([]);
    const resume = await post(`${bosun.ops}/kill`, { enabled: true, venue: 'binance' });
    expect(resume.status).toBe(200);
    const s = await getJson<{ governance: { venues: Record<string, { state: string }> } }>(`${bosun.ops}/status`);
    expect(s.governance.venues.binance?.state).toBe('ACTIVE');
  }, 30_000);
});
