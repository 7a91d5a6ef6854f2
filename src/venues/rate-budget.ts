/**
 * One request budget per venue account (DESIGN §7): local limiters sized at a fraction (default 80%) of the
 * venue's published limits, so Bosun slows itself down — and the conn actor reads `pressure()` and goes
 * DEGRADED — long before the venue answers 429 (and, at Binance, 418 with an IP ban of minutes to days).
 *
 * Two shapes, because the venues count differently:
 * - `window`: at most `limit` units in any `windowMs` (Binance weight/orders are fixed windows; a sliding
 *   window bounds every fixed window too, which a token bucket of the same size does not: a full bucket plus
 *   a window of refill lets 2× through one fixed window).
 * - `decay`: a counter that grows by the cost and decays continuously, refused above `max` (Kraken's call
 *   counter and per-pair trading counter work exactly like this).
 * Time comes from an injected clock, so tests are deterministic and instant.
 *
 * The budget is also the venue's *planner*: every call has a priority, and a class may fill a limiter only up to
 * its share (PRIORITY_SHARE), so the room above each share is kept for the classes above it. Market data can
 * never use what an order, a settlement lookup or a reconciliation needs, and — because the conn actor goes
 * DEGRADED at 90% — market data alone never degrades the venue. A venue 429/418 with `Retry-After` pauses the
 * limiters the refused call charges until then (`pause`); without one, the venue's verdict fills them (`saturate`).
 */

export interface BudgetClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export type LimiterSpec =
  | { kind: 'window'; name: string; limit: number; windowMs: number; perKey?: boolean }
  | { kind: 'decay'; name: string; max: number; decayPerSec: number; perKey?: boolean };

/** Units charged to each named limiter; `key` selects the instance of per-key limiters (e.g. a Kraken pair). */
export interface BudgetCost {
  units: Readonly<Record<string, number>>;
  key?: string;
}

export type AcquireResult = { ok: true } | { ok: false; retryInMs: number; limiter: string };

/** Who asks, highest first: orders and cancels, settlement and reconciliation, account refresh, market data. */
export type CallPriority = 'order' | 'settlement' | 'account' | 'market';
export const CALL_PRIORITIES: readonly CallPriority[] = ['order', 'settlement', 'account', 'market'];

/**
 * The share of each (already 80%) limiter a class may fill. Kraken's public limit is ~1 call/s (8 per 10 s
 * in the budget): market data gets 6 of them, so a 2 s ticker poll (5) still leaves the scanner one, and the
 * account's valuation tickers and loadMarkets their own room above.
 */
export const PRIORITY_SHARE: Readonly<Record<CallPriority, number>> = {
  order: 1,
  settlement: 0.95,
  account: 0.85,
  market: 0.75,
};

/** Thrown by `acquire` when the wait would exceed `maxWaitMs`: nothing was charged and nothing was sent. */
export class BudgetExhausted extends Error {
  override readonly name = 'BudgetExhausted';
  constructor(
    readonly limiter: string,
    readonly retryInMs: number,
    readonly priority: CallPriority = 'order',
  ) {
    super(`local rate budget '${limiter}' exhausted for ${priority}; retry in ${Math.ceil(retryInMs)} ms`);
  }
}

/** What the budget tells its owner about a local refusal (a metric of its own, never a venue error). */
export interface BudgetRefusal {
  limiter: string;
  priority: CallPriority;
}

interface LimiterState {
  usage(now: number): number;
  capacity: number;
  /** ms until `cost` more fits under `share` of capacity, 0 if it fits now, Infinity if it never can. */
  waitFor(now: number, cost: number, share: number): number;
  charge(now: number, cost: number): void;
}

const WINDOW_SLOTS = 60;

/** Sliding window over a ring of slots; counts the partly expired oldest slot in full (over-estimates, safe). */
function windowLimiter(capacity: number, windowMs: number): LimiterState {
  const slotMs = windowMs / WINDOW_SLOTS;
  const counts = new Map<number, number>();
  const oldest = (now: number) => Math.floor(now / slotMs) - WINDOW_SLOTS;
  const prune = (now: number) => {
    const min = oldest(now);
    for (const k of counts.keys()) if (k < min) counts.delete(k);
  };
  const usage = (now: number) => {
    prune(now);
    let sum = 0;
    for (const v of counts.values()) sum += v;
    return sum;
  };
  return {
    capacity,
    usage,
    waitFor(now, cost, share) {
      const cap = capacity * share;
      if (cost > cap) return Number.POSITIVE_INFINITY;
      let excess = usage(now) + cost - cap;
      if (excess <= 0) return 0;
      for (const slot of [...counts.keys()].sort((a, b) => a - b)) {
        excess -= counts.get(slot) ?? 0;
        // slot `slot` leaves the counted range once floor(t/slotMs) - WINDOW_SLOTS > slot.
        if (excess <= 0) return (slot + WINDOW_SLOTS + 1) * slotMs - now;
      }
      return Number.POSITIVE_INFINITY;
    },
    charge(now, cost) {
      const slot = Math.floor(now / slotMs);
      counts.set(slot, (counts.get(slot) ?? 0) + cost);
    },
  };
}

/** Leaky counter: level decays at `decayPerSec`; a call fits while level + cost ≤ max. */
function decayLimiter(max: number, decayPerSec: number): LimiterState {
  let level = 0;
  let at = Number.NEGATIVE_INFINITY;
  const usage = (now: number) => {
    if (now > at) {
      level = at === Number.NEGATIVE_INFINITY ? 0 : Math.max(0, level - ((now - at) * decayPerSec) / 1000);
      at = now;
    }
    return level;
  };
  return {
    capacity: max,
    usage,
    waitFor(now, cost, share) {
      const cap = max * share;
      if (cost > cap) return Number.POSITIVE_INFINITY;
      const excess = usage(now) + cost - cap;
      return excess <= 1e-9 ? 0 : (excess / decayPerSec) * 1000;
    },
    charge(now, cost) {
      level = usage(now) + cost;
    },
  };
}

/** Limits as they will be enforced: published × fraction (rounded down for windows). */
export function effectiveSpec(spec: LimiterSpec, fraction: number): LimiterSpec {
  return spec.kind === 'window'
    ? { ...spec, limit: Math.floor(spec.limit * fraction) }
    : { ...spec, max: spec.max * fraction, decayPerSec: spec.decayPerSec * fraction };
}

export interface RateBudgetOptions {
  /** Published venue limits; the budget enforces `fraction` of each. */
  limits: readonly LimiterSpec[];
  fraction?: number;
  clock?: BudgetClock;
  /** Called on every local refusal (`acquire` giving up, `tryAcquire` saying no). */
  onRefuse?: (r: BudgetRefusal) => void;
}

export const realClock: BudgetClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class RateBudget {
  readonly limits: readonly LimiterSpec[];
  private readonly clock: BudgetClock;
  private readonly states = new Map<string, LimiterState>();
  /** Limiter name → epoch ms until which the venue told us to stop (Retry-After). */
  private readonly paused = new Map<string, number>();
  private readonly onRefuse: ((r: BudgetRefusal) => void) | undefined;

  constructor(opts: RateBudgetOptions) {
    const fraction = opts.fraction ?? 0.8;
    if (!(fraction > 0 && fraction <= 0.8)) throw new RangeError(`fraction must be in (0, 0.8], got ${fraction}`);
    this.limits = opts.limits.map((s) => effectiveSpec(s, fraction));
    this.clock = opts.clock ?? realClock;
    this.onRefuse = opts.onRefuse;
    for (const s of this.limits) {
      if ((s.kind === 'window' ? s.limit : s.max) <= 0) throw new RangeError(`limiter '${s.name}' has no capacity`);
    }
  }

  private state(spec: LimiterSpec, key: string | undefined): LimiterState {
    const id = spec.perKey === true ? `${spec.name}|${key ?? ''}` : spec.name;
    let st = this.states.get(id);
    if (st === undefined) {
      st = spec.kind === 'window' ? windowLimiter(spec.limit, spec.windowMs) : decayLimiter(spec.max, spec.decayPerSec);
      this.states.set(id, st);
    }
    return st;
  }

  private charged(cost: BudgetCost): Array<{ spec: LimiterSpec; st: LimiterState; units: number }> {
    const out: Array<{ spec: LimiterSpec; st: LimiterState; units: number }> = [];
    for (const spec of this.limits) {
      const units = cost.units[spec.name];
      if (units !== undefined && units > 0) out.push({ spec, st: this.state(spec, cost.key), units });
    }
    return out;
  }

  /** Charges `cost` if every limiter it touches has room for `priority` now (and none is paused). */
  private attempt(cost: BudgetCost, priority: CallPriority): AcquireResult {
    const now = this.clock.now();
    const parts = this.charged(cost);
    const share = PRIORITY_SHARE[priority];
    let worst: { retryInMs: number; limiter: string } | undefined;
    for (const p of parts) {
      const until = this.paused.get(p.spec.name) ?? 0;
      const w = Math.max(until - now, p.st.waitFor(now, p.units, share));
      if (w > 0 && (worst === undefined || w > worst.retryInMs)) worst = { retryInMs: w, limiter: p.spec.name };
    }
    if (worst !== undefined) return { ok: false, ...worst };
    for (const p of parts) p.st.charge(now, p.units);
    return { ok: true };
  }

  /**
   * Charges `cost` if every limiter it touches has room for `priority` now; otherwise charges nothing, counts a
   * refusal and says how long to wait. Default priority `order`: the whole budget.
   */
  tryAcquire(cost: BudgetCost, priority: CallPriority = 'order'): AcquireResult {
    const r = this.attempt(cost, priority);
    if (!r.ok) this.onRefuse?.({ limiter: r.limiter, priority });
    return r;
  }

  /** Waits (on the injected clock) until `cost` fits, or throws BudgetExhausted if that would take > maxWaitMs. */
  async acquire(
    cost: BudgetCost,
    maxWaitMs = Number.POSITIVE_INFINITY,
    priority: CallPriority = 'order',
  ): Promise<void> {
    const deadline = this.clock.now() + maxWaitMs;
    for (;;) {
      const r = this.attempt(cost, priority);
      if (r.ok) return;
      if (!Number.isFinite(r.retryInMs) || this.clock.now() + r.retryInMs > deadline) {
        this.onRefuse?.({ limiter: r.limiter, priority });
        throw new BudgetExhausted(r.limiter, r.retryInMs, priority);
      }
      await this.clock.sleep(Math.max(1, Math.ceil(r.retryInMs)));
    }
  }

  /**
   * The venue said 429/418 with `Retry-After`: nothing that charges these limiters is sent before `untilMs`
   * (a later pause never shortens an earlier one). At Binance, calling on after a 429 leads to a 418 IP ban.
   */
  pause(limiters: readonly string[], untilMs: number): void {
    for (const name of limiters) {
      if (!this.limits.some((s) => s.name === name)) continue;
      this.paused.set(name, Math.max(this.paused.get(name) ?? 0, untilMs));
    }
  }

  /** The budget's clock (epoch ms): Retry-After deadlines are set on it. */
  now(): number {
    return this.clock.now();
  }

  /** Epoch ms until which a limiter is paused, for /actors and tests (0 = not paused). */
  pausedUntil(limiter: string): number {
    const until = this.paused.get(limiter) ?? 0;
    return until > this.clock.now() ? until : 0;
  }

  /**
   * The venue said "rate limit" without a Retry-After (Kraken `EAPI:Rate limit exceeded`): its counter is
   * fuller than ours, so ours is filled to capacity and the next call waits for it to drain (Kraken starter:
   * 3.8 s per call).
   */
  saturate(limiters: readonly string[], key?: string): void {
    const now = this.clock.now();
    for (const spec of this.limits) {
      if (!limiters.includes(spec.name)) continue;
      if (spec.perKey === true && key === undefined) {
        // Which pair's counter is unknown: hold them all for the time one unit takes to drain.
        const unitMs = spec.kind === 'decay' ? 1000 / spec.decayPerSec : spec.windowMs / spec.limit;
        this.pause([spec.name], now + unitMs);
        continue;
      }
      const st = this.state(spec, key);
      const room = st.capacity - st.usage(now);
      if (room > 0) st.charge(now, room);
    }
  }

  /**
   * Folds in what the venue says was used (Binance `X-MBX-USED-WEIGHT-1M`): other processes on the same IP
   * spend the same budget, so when the venue counts more than we did, we charge the difference.
   */
  observe(limiter: string, usedAtVenue: number, key?: string): void {
    const spec = this.limits.find((s) => s.name === limiter);
    if (spec === undefined || !Number.isFinite(usedAtVenue)) return;
    const st = this.state(spec, key);
    const now = this.clock.now();
    const missing = usedAtVenue - st.usage(now);
    if (missing > 0) st.charge(now, missing);
  }

  /** Highest usage/capacity over all limiters, 0..1: the conn actor goes DEGRADED on a high reading. */
  pressure(): number {
    const now = this.clock.now();
    let p = 0;
    for (const st of this.states.values()) p = Math.max(p, st.usage(now) / st.capacity);
    return Math.min(1, p);
  }

  /** Usage per limiter instance (for /status and logs). */
  snapshot(): Record<string, { used: number; capacity: number }> {
    const now = this.clock.now();
    const out: Record<string, { used: number; capacity: number }> = {};
    for (const [id, st] of this.states) out[id] = { used: st.usage(now), capacity: st.capacity };
    return out;
  }
}
