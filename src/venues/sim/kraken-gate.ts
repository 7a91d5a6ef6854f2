/**
 * Kraken's documented spot REST rate limits, enforced per API key as the venue does (docs.kraken.com, "Spot REST
 * API rate limits" and "Spot trading rate limits"):
 * - the **call counter**: every private call adds 1, the ledger and trade history queries (Ledgers, QueryLedgers,
 *   TradesHistory, QueryTrades) add 2, order placement and cancellation add nothing (they have their own counter);
 *   it decays continuously by the tier's rate, and a call that would take it past the tier's maximum is answered
 *   `EAPI:Rate limit exceeded` and not counted;
 * - the **trading counter**, per pair: AddOrder and EditOrder add 1, a cancel adds a penalty that falls with the
 *   order's age (8 under 5 s down to 0 from 300 s); past the tier's threshold the call is answered
 *   `EOrder:Rate limit exceeded`.
 * Public endpoints are limited per IP without a documented algorithm ("about one call per second"); they are not
 * enforced here. Time is the simulator's clock, so a manual clock decays the counters too.
 */
export type KrakenSimTier = 'starter' | 'intermediate' | 'pro';

const TIERS: Record<KrakenSimTier, { callMax: number; callDecay: number; tradeMax: number; tradeDecay: number }> = {
  starter: { callMax: 15, callDecay: 0.33, tradeMax: 60, tradeDecay: 1 },
  intermediate: { callMax: 20, callDecay: 0.5, tradeMax: 125, tradeDecay: 2.34 },
  pro: { callMax: 20, callDecay: 1, tradeMax: 180, tradeDecay: 3.75 },
};

const HISTORY_CALLS = new Set(['Ledgers', 'QueryLedgers', 'TradesHistory', 'QueryTrades']);
const TRADING_CALLS = new Set([
  'AddOrder',
  'AddOrderBatch',
  'EditOrder',
  'AmendOrder',
  'CancelOrder',
  'CancelAll',
  'CancelAllOrdersAfter',
  'CancelOrderBatch',
]);

/** The cancel penalty by the order's age (Kraken's table; ages in ms). */
const CANCEL_PENALTY: ReadonlyArray<readonly [number, number]> = [
  [5_000, 8],
  [10_000, 6],
  [15_000, 5],
  [45_000, 4],
  [90_000, 2],
  [300_000, 1],
];

interface Counter {
  value: number;
  at: number;
}

export class KrakenGate {
  private readonly calls = new Map<string, Counter>();
  private readonly trading = new Map<string, Counter>();
  private refused = { calls: 0, trading: 0 };

  constructor(
    private readonly now: () => number,
    private readonly tier: KrakenSimTier | 'off' = 'starter',
  ) {}

  reset(): void {
    this.calls.clear();
    this.trading.clear();
    this.refused = { calls: 0, trading: 0 };
  }

  refusals(): { calls: number; trading: number } {
    return { ...this.refused };
  }

  /** Charges a private call to the key's call counter; past the tier's max, the venue's error and nothing charged. */
  chargeCall(apiKey: string, method: string): string | undefined {
    if (this.tier === 'off' || TRADING_CALLS.has(method)) return undefined;
    const t = TIERS[this.tier];
    const cost = HISTORY_CALLS.has(method) ? 2 : 1;
    const error = charge(this.calls, apiKey, cost, t.callMax, t.callDecay, this.now(), 'EAPI:Rate limit exceeded');
    if (error) this.refused.calls += 1;
    return error;
  }

  /** Charges an order placement (1) or a cancel (by the order's age) to the key's counter for the pair. */
  chargeTrade(apiKey: string, pair: string, kind: 'add' | 'cancel', orderCreatedAt?: number): string | undefined {
    if (this.tier === 'off') return undefined;
    const t = TIERS[this.tier];
    const now = this.now();
    const cost = kind === 'add' ? 1 : (CANCEL_PENALTY.find(([age]) => now - (orderCreatedAt ?? 0) < age)?.[1] ?? 0);
    if (cost === 0) return undefined;
    const error = charge(
      this.trading,
      `${apiKey} ${pair}`,
      cost,
      t.tradeMax,
      t.tradeDecay,
      now,
      'EOrder:Rate limit exceeded',
    );
    if (error) this.refused.trading += 1;
    return error;
  }
}

function charge(
  counters: Map<string, Counter>,
  key: string,
  cost: number,
  max: number,
  decayPerSec: number,
  now: number,
  error: string,
): string | undefined {
  const c = counters.get(key) ?? { value: 0, at: now };
  const value = Math.max(0, c.value - (Math.max(0, now - c.at) / 1000) * decayPerSec);
  if (value + cost > max) {
    counters.set(key, { value, at: now });
    return error;
  }
  counters.set(key, { value: value + cost, at: now });
  return undefined;
}
