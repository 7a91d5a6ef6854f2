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

/** Thrown by `acquire` when the wait would exceed `maxWaitMs`: nothing was charged and nothing was sent. */
export class BudgetExhausted extends Error {
  override readonly name = 'BudgetExhausted';
  constructor(
    readonly limiter: string,
    readonly retryInMs: number,
  ) {
    super(`local rate budget '${limiter}' exhausted; retry in ${Math.ceil(retryInMs)} ms`);
  }
}

interface LimiterState {
  usage(now: number): number;
  capacity: number;
  /** ms until `cost` more fits, 0 if it fits now, Infinity if it never can. */
  waitFor(now: number, cost: number): number;
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
    waitFor(now, cost) {
      if (cost > capacity) return Number.POSITIVE_INFINITY;
      let excess = usage(now) + cost - capacity;
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
    waitFor(now, cost) {
      if (cost > max) return Number.POSITIVE_INFINITY;
      const excess = usage(now) + cost - max;
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
}

export const realClock: BudgetClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class RateBudget {
  readonly limits: readonly LimiterSpec[];
  private readonly clock: BudgetClock;
  private readonly states = new Map<string, LimiterState>();

  constructor(opts: RateBudgetOptions) {
    const fraction = opts.fraction ?? 0.8;
    if (!(fraction > 0 && fraction <= 0.8)) throw new RangeError(`fraction must be in (0, 0.8], got ${fraction}`);
    this.limits = opts.limits.map((s) => effectiveSpec(s, fraction));
    this.clock = opts.clock ?? realClock;
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

  /** Charges `cost` if every limiter it touches has room now; otherwise charges nothing and says how long to wait. */
  tryAcquire(cost: BudgetCost): AcquireResult {
    const now = this.clock.now();
    const parts = this.charged(cost);
    let worst: { retryInMs: number; limiter: string } | undefined;
    for (const p of parts) {
      const w = p.st.waitFor(now, p.units);
      if (w > 0 && (worst === undefined || w > worst.retryInMs)) worst = { retryInMs: w, limiter: p.spec.name };
    }
    if (worst !== undefined) return { ok: false, ...worst };
    for (const p of parts) p.st.charge(now, p.units);
    return { ok: true };
  }

  /** Waits (on the injected clock) until `cost` fits, or throws BudgetExhausted if that would take > maxWaitMs. */
  async acquire(cost: BudgetCost, maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    const deadline = this.clock.now() + maxWaitMs;
    for (;;) {
      const r = this.tryAcquire(cost);
      if (r.ok) return;
      if (!Number.isFinite(r.retryInMs) || this.clock.now() + r.retryInMs > deadline) {
        throw new BudgetExhausted(r.limiter, r.retryInMs);
      }
      await this.clock.sleep(Math.max(1, Math.ceil(r.retryInMs)));
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
