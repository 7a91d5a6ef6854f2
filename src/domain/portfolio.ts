/**
 * The portfolio ledger (pure): balances per venue built from a baseline plus every fill, and its valuation in USD.
 * Values are JSON-only so the ledger round-trips through LMDB and `state/portfolio.json` unchanged.
 *
 * Immutability: every function returns a new `Ledger` and never mutates its input. Venues a call does not touch
 * are shared by reference with the input, so callers treat ledgers as read-only values.
 */

import { z } from 'zod';
import { AppError } from './errors.js';
import { cleanAdd } from './precision.js';
import { CASH_ASSETS } from './valuation.js';

export interface Fill {
  venue: string;
  tradeId: string;
  clientOrderId: string | null;
  symbol: string;
  base: string;
  quote: string;
  side: 'buy' | 'sell';
  amount: number;
  price: number;
  /** Quote spent (buy) or received (sell), as the venue reports it: rounding is the venue's, not ours. */
  cost: number;
  /** Fee in any currency (base, quote or a third, e.g. BNB); a negative cost is a rebate. */
  fee: { cost: number; currency: string } | null;
  at: number;
}

export interface VenueLedger {
  balances: Record<string, number>;
  appliedTrades: number;
  lastTradeAt: number;
}

export interface Ledger {
  venues: Record<string, VenueLedger>;
}

const finite = z.number().refine(Number.isFinite, 'expected a finite number');

/** The ledger as stored (LMDB, portfolio.json); an operator-edited file is checked against it. */
export const LedgerSchema = z.object({
  venues: z.record(
    z.string().min(1),
    z.object({
      balances: z.record(z.string().min(1), finite),
      appliedTrades: z.number().int().min(0),
      lastTradeAt: finite.min(0),
    }),
  ),
});

export function emptyLedger(): Ledger {
  return { venues: {} };
}

/**
 * Sets a venue's balances (boot baseline or operator adjustment), replacing what the ledger held for it; the
 * applied-trade count and cursor are kept, since the baseline does not undo which trades were seen.
 */
export function withBaseline(l: Ledger, venue: string, balances: Record<string, number>): Ledger {
  for (const [asset, v] of Object.entries(balances)) {
    if (!Number.isFinite(v)) {
      throw new AppError('VALIDATION_FAILED', `baseline balance ${venue}/${asset} is not a finite number`, {
        details: { venue, asset },
      });
    }
  }
  const prev = l.venues[venue];
  return {
    venues: {
      ...l.venues,
      [venue]: {
        balances: { ...balances },
        appliedTrades: prev?.appliedTrades ?? 0,
        lastTradeAt: prev?.lastTradeAt ?? 0,
      },
    },
  };
}

function checkFill(f: Fill): void {
  const bad = (what: string) =>
    new AppError('VALIDATION_FAILED', `fill ${f.venue}/${f.tradeId}: ${what}`, {
      details: { venue: f.venue, tradeId: f.tradeId },
    });
  // A NaN would poison a balance for good; refuse the fill instead (reconciliation then reports the gap).
  if (!(Number.isFinite(f.amount) && f.amount >= 0)) throw bad('amount must be a finite number ≥ 0');
  if (!(Number.isFinite(f.cost) && f.cost >= 0)) throw bad('cost must be a finite number ≥ 0');
  if (f.fee !== null && !Number.isFinite(f.fee.cost)) throw bad('fee cost must be a finite number');
  if (f.base === f.quote) throw bad('base and quote must differ');
}

/**
 * Applies a fill and returns a new ledger (the input is not mutated): buy → base += amount, quote −= cost;
 * sell → base −= amount, quote += cost; the fee is subtracted from its own currency. The venue is created on its
 * first fill. Idempotency (a trade applied once) is the caller's job: the ledger counts, it does not dedupe.
 */
export function applyFill(l: Ledger, f: Fill): Ledger {
  const prev = l.venues[f.venue];
  const balances = { ...(prev?.balances ?? {}) };
  applyFillTo(balances, f);
  return {
    venues: {
      ...l.venues,
      [f.venue]: {
        balances,
        appliedTrades: (prev?.appliedTrades ?? 0) + 1,
        lastTradeAt: Math.max(prev?.lastTradeAt ?? 0, f.at),
      },
    },
  };
}

/**
 * The same arithmetic as `applyFill`, done in place on one venue's balances; returns the assets it touched. For
 * callers that own a mutable copy of the ledger (the ledger book): a fill then costs O(1), not O(assets).
 */
export function applyFillTo(balances: Record<string, number>, f: Fill): string[] {
  checkFill(f);
  const sign = f.side === 'buy' ? 1 : -1;
  // Doubles carry binary noise (a ledger showed 49974.932570000004): every sum is cleaned to 15 significant
  // digits of its terms, far below any venue's precision, so a balance stays the venue's decimal to the last bit
  // (also after selling most of a position: 0.302697 − 0.302 is 0.000697, not 0.000697000000000003).
  const add = (asset: string, delta: number) => {
    balances[asset] = cleanAdd(balances[asset] ?? 0, delta);
  };
  add(f.base, sign * f.amount);
  add(f.quote, -sign * f.cost);
  const touched = [f.base, f.quote];
  if (f.fee !== null && f.fee.cost !== 0) {
    add(f.fee.currency, -f.fee.cost);
    if (!touched.includes(f.fee.currency)) touched.push(f.fee.currency);
  }
  return touched;
}

export interface HoldingValue {
  amount: number;
  /** USD per unit; 1 for cash assets; null when no price is known. */
  priceUsd: number | null;
  valueUsd: number;
}

export interface VenueValuation {
  cashUsd: number;
  marketValueUsd: number;
  equityUsd: number;
  holdings: Record<string, HoldingValue>;
}

export interface Valuation {
  venues: Record<string, VenueValuation>;
  cashUsd: number;
  marketValueUsd: number;
  equityUsd: number;
  /** Total equity (summed per asset across venues) − Σ venue equities: exactly 0 unless a holding is lost. */
  residualUsd: number;
  /** Assets held (non-zero) that have no USD price; valued at 0 and reported, never silently dropped. */
  unpricedAssets: string[];
}

const sortedKeys = (r: Record<string, unknown>) => Object.keys(r).sort();

/**
 * The binary grid every holding value is snapped to: the finest power of two at which the sum of `count` values
 * of magnitude ≤ `maxAbs` is still an exact multiple held in 53 bits. On that grid every sum is exact, so
 * cash + market = equity and Σ venues = total hold to the last bit whatever the grouping, while the snap itself
 * moves a value by at most ~count × 2⁻⁵² relative to the largest holding (far below a cent).
 */
function exactGrid(maxAbs: number, count: number): number {
  if (maxAbs === 0) return 1;
  const exp = Math.ceil(Math.log2(maxAbs)) + Math.ceil(Math.log2(count + 1)) - 52;
  return 2 ** Math.min(Math.max(exp, -1074), 1023);
}

interface Priced {
  venue: string;
  asset: string;
  amount: number;
  priceUsd: number | null;
  raw: number;
}

/** Prices every non-zero holding; cash assets count at 1 (the depeg guard watches that assumption). */
function priceHoldings(l: Ledger, pricesUsd: Readonly<Record<string, number>>): Priced[] {
  const out: Priced[] = [];
  for (const venue of sortedKeys(l.venues)) {
    const balances = l.venues[venue]!.balances;
    for (const asset of sortedKeys(balances)) {
      const amount = balances[asset]!;
      if (amount === 0) continue;
      const p = CASH_ASSETS.has(asset) ? 1 : pricesUsd[asset];
      const value = p === undefined ? Number.NaN : amount * p;
      if (!Number.isFinite(value)) out.push({ venue, asset, amount, priceUsd: null, raw: 0 });
      else out.push({ venue, asset, amount, priceUsd: p!, raw: value });
    }
  }
  return out;
}

/**
 * Values the ledger in USD per venue and in total: cash = USD-like assets (`CASH_ASSETS` of valuation.ts),
 * market value = every other asset at its price, equity = cash + market value. The total is computed a second
 * way (per asset across venues) and `residualUsd` is its difference with Σ venue equities; values are snapped
 * to a common binary grid (see `exactGrid`) so a correct ledger gives a residual of exactly 0. Deterministic:
 * venues and assets are visited in sorted order.
 */
export function valueLedger(l: Ledger, pricesUsd: Record<string, number>): Valuation {
  const priced = priceHoldings(l, pricesUsd);
  let maxAbs = 0;
  for (const h of priced) maxAbs = Math.max(maxAbs, Math.abs(h.raw));
  const grid = exactGrid(maxAbs, priced.length);

  const venues: Record<string, VenueValuation> = {};
  for (const venue of sortedKeys(l.venues))
    venues[venue] = { cashUsd: 0, marketValueUsd: 0, equityUsd: 0, holdings: {} };
  const byAsset = new Map<string, number>();
  const unpriced = new Set<string>();
  for (const h of priced) {
    const value = Math.round(h.raw / grid) * grid + 0;
    const v = venues[h.venue]!;
    v.holdings[h.asset] = { amount: h.amount, priceUsd: h.priceUsd, valueUsd: value };
    if (h.priceUsd === null) unpriced.add(h.asset);
    else if (CASH_ASSETS.has(h.asset)) v.cashUsd += value;
    else v.marketValueUsd += value;
    byAsset.set(h.asset, (byAsset.get(h.asset) ?? 0) + value);
  }

  let venueEquities = 0;
  let cash = 0;
  let market = 0;
  for (const name of Object.keys(venues)) {
    const v = venues[name]!;
    v.equityUsd = v.cashUsd + v.marketValueUsd;
    venueEquities += v.equityUsd;
  }
  for (const asset of [...byAsset.keys()].sort()) {
    if (CASH_ASSETS.has(asset)) cash += byAsset.get(asset)!;
    else market += byAsset.get(asset)!;
  }
  const equity = cash + market;
  return {
    venues,
    cashUsd: cash,
    marketValueUsd: market,
    equityUsd: equity,
    residualUsd: equity - venueEquities,
    unpricedAssets: [...unpriced].sort(),
  };
}

export interface BalanceDiff {
  asset: string;
  ledger: number;
  venue: number;
  /** venue − ledger: what the ledger is missing. */
  diff: number;
}

export const DEFAULT_BALANCE_TOLERANCE: Readonly<{ rel: number; abs: number }> = { rel: 1e-9, abs: 1e-12 };

/**
 * Ledger vs venue balances for reconciliation: every asset (in sorted order) whose difference exceeds
 * max(abs, rel × the larger magnitude). A missing asset counts as 0; a non-finite balance is always a difference.
 */
export function balanceDiffs(
  ledger: Record<string, number>,
  venue: Record<string, number>,
  tolerance: { rel: number; abs: number } = DEFAULT_BALANCE_TOLERANCE,
): BalanceDiff[] {
  const assets = [...new Set([...Object.keys(ledger), ...Object.keys(venue)])].sort();
  const out: BalanceDiff[] = [];
  for (const asset of assets) {
    const a = ledger[asset] ?? 0;
    const b = venue[asset] ?? 0;
    const diff = b - a;
    const allowed = Math.max(tolerance.abs, tolerance.rel * Math.max(Math.abs(a), Math.abs(b)));
    // An infinite balance would widen its own allowance to Infinity: non-finite is a difference by definition.
    const within = Number.isFinite(a) && Number.isFinite(b) && Math.abs(diff) <= allowed;
    if (!within) out.push({ asset, ledger: a, venue: b, diff });
  }
  return out;
}
