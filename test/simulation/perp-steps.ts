import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';
import { type FundingPlan, fundingPlans } from '../../src/machines/funding-guard.machine.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import { ISOLATED_PERP } from '../support/perp-settings.js';
import type { Incarnation } from './sut.js';

/**
 * The perpetual side of the campaign (issue 16): the PERP_* settings a schedule with perpetual steps runs with,
 * the harness's play of the stop validator's perpetual stops (a reduce-only STOP_MARKET on the closing side of
 * every position the strategies hold, placed outside Bosun's orders as the validator's own book is), and the
 * funding step's clock. Kept apart from harness.ts so the spot campaign reads as before.
 */
export const PERP_SETTINGS: PerpSettings = ISOLATED_PERP;

/** A protective stop the harness placed (spot or perpetual), as the invariants read it. */
export interface PerpStop {
  symbol: string;
  venueOrderId: string;
  released: boolean;
  qty: number;
  stopPrice: number;
  market?: 'spot' | 'perp';
  /** Perpetual: the side of the position it protects (a long's stop sells). */
  protects?: 'long' | 'short';
}

/**
 * The campaign's simulator settles funding every 10 minutes (Binance: 8 h; the simulator's `fundingIntervalMs`): a
 * funding step then moves sim time no further than an `advance` step does (8 h of price path per step overran
 * the 30 s run guard).
 */
export const FUNDING_INTERVAL_MS = 600_000;

/** What the perpetual steps reached across a test file's seeds (printed beside the report, asserted non-zero). */
export const perpCoverage = {
  seeds: 0,
  creates: 0,
  shortEntries: 0,
  reduceOnly: 0,
  stopsPlaced: 0,
  fundingPayments: 0,
  killsWithPerpsOpen: 0,
};

/** Funding trims the harness saw sent (the `funding_spike` step): its witness checks that it reached one. */
export const guardCoverage = { fundingTrims: 0 };

export function perpCoverageLine(): string {
  const c = perpCoverage;
  return `  perpetuals: ${c.seeds} seeds, ${c.creates} creates (${c.shortEntries} short entries, ${c.reduceOnly} reduce-only), ${c.stopsPlaced} protective stops, ${c.fundingPayments} funding payments, ${c.killsWithPerpsOpen} kills/fatal paths with positions open`;
}

/** Counts a create handed to the venue (perpetual ones only). */
export function notePerpCreate(req: { market: string; side: string; reduceOnly?: boolean }): void {
  if (req.market !== 'linear') return;
  perpCoverage.creates += 1;
  if (req.reduceOnly === true) perpCoverage.reduceOnly += 1;
  else if (req.side === 'sell') perpCoverage.shortEntries += 1;
}

/** True when the account holds any perpetual position at the venue. */
export function perpsOpen(sim: Simulator, apiKey: string): boolean {
  return [...venuePositions(sim, apiKey).values()].some((q) => q !== 0);
}

export function fundingPaid(sim: Simulator, apiKey: string): number {
  return sim.state({ venue: 'binance', account: apiKey }).accounts[0]?.futures.fundingPaid.length ?? 0;
}

/** Sim time to the next funding settlement, plus a second. */
export function toNextFunding(now: number): number {
  return Math.ceil((now + 1) / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS - now + 1_000;
}

function venuePositions(sim: Simulator, apiKey: string): Map<string, number> {
  const f = sim.state({ venue: 'binance', account: apiKey }).accounts[0]?.futures;
  return new Map((f?.positions ?? []).map((p) => [p.symbol, p.qty]));
}

/**
 * The stop validator's perpetual pass as the harness plays it: a stop for the strategies' share of every position
 * (capped by the venue's net), reduce-only, 30% beyond the mark on the losing side; one per position.
 */
export function protectPerps(p: {
  sim: Simulator;
  apiKey: string;
  symbols: readonly string[];
  inc: Incarnation;
  stops: Map<string, PerpStop>;
  next: () => string;
}): void {
  const at = venuePositions(p.sim, p.apiKey);
  for (const symbol of p.symbols) {
    if ([...p.stops.values()].some((s) => s.symbol === symbol && s.market === 'perp' && !s.released)) continue;
    const own = p.inc.perps?.position('binance', symbol, 'strategies') ?? 0;
    const net = at.get(symbol) ?? 0;
    if (own === 0 || Math.sign(own) !== Math.sign(net)) continue;
    const qty = Math.min(Math.abs(own), Math.abs(net));
    const mark = Number(p.sim.prices('binance')[`binance:perp:${symbol}`] ?? 0);
    if (!(mark > 0)) continue;
    const long = net > 0;
    const cid = p.next();
    try {
      const o = p.sim.placeOrder({
        venue: 'binance',
        apiKey: p.apiKey,
        market: 'perp',
        symbol,
        side: long ? 'sell' : 'buy',
        type: 'stop_loss',
        qty,
        stopPrice: mark * (long ? 0.7 : 1.3),
        reduceOnly: true,
        clientOrderId: cid,
      });
      perpCoverage.stopsPlaced += 1;
      p.stops.set(cid, {
        symbol,
        venueOrderId: o.venueOrderId,
        released: false,
        qty,
        stopPrice: mark * (long ? 0.7 : 1.3),
        market: 'perp',
        protects: long ? 'long' : 'short',
      });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
    }
  }
}

/**
 * A perpetual stop whose position closed or flipped is the validator's to cancel at its next pass (perp-stops.ts);
 * until then the venue may expire it (a reduce-only order that can no longer reduce). Either is not a kill
 * cancelling protection: it is marked released, as the validator's own cancel would.
 */
export function perpStopsReleased(sim: Simulator, apiKey: string, stops: Map<string, PerpStop>): void {
  if (![...stops.values()].some((s) => s.market === 'perp' && !s.released)) return;
  const at = venuePositions(sim, apiKey);
  for (const s of stops.values()) {
    if (s.market !== 'perp' || s.released) continue;
    const net = at.get(s.symbol) ?? 0;
    if (net === 0 || net > 0 !== (s.protects === 'long')) s.released = true;
  }
}

/**
 * The funding guard's plan for a spike on `symbol`'s perpetual, as its poll would see it (the venue's position and
 * mark, a rate past the threshold on the side that pays): trim half, no hedge. Undefined without a position.
 */
export function fundingSpikePlan(sim: Simulator, apiKey: string, symbol: string): FundingPlan | undefined {
  const qty = venuePositions(sim, apiKey).get(symbol) ?? 0;
  if (qty === 0) return undefined;
  const side = qty > 0 ? 'long' : 'short';
  const markPrice = Number(sim.prices('binance')[`binance:perp:${symbol}`] ?? 0) || null;
  return fundingPlans(
    { thresholdPct: 0.1, trimPct: 50, hedgeRatio: 0, hedgeSymbol: 'BTCUSDT', handled: {} },
    { [symbol]: { ratePct: side === 'long' ? 0.5 : -0.5, nextFundingTime: null } },
    [{ symbol, side, amount: Math.abs(qty), markPrice }],
  )[0];
}

/** I6 for perpetuals: the perp book's net positions equal the venue's, symbol by symbol. */
export function perpPositionDrift(sim: Simulator, apiKey: string, inc: Incarnation): string[] {
  if (!inc.perps) return [];
  const at = venuePositions(sim, apiKey);
  const book = inc.perps.venue('binance')?.positions ?? {};
  const out: string[] = [];
  for (const s of new Set([...at.keys(), ...Object.keys(book)])) {
    const a = book[s]?.qty ?? 0;
    const v = at.get(s) ?? 0;
    if (Math.abs(a - v) > 1e-9 * Math.max(1, Math.abs(a), Math.abs(v)))
      out.push(`${s} perpetual: ledger ${a} venue ${v}`);
  }
  return out;
}
