import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KvStore } from '../store/index.js';
import {
  CUTBACK_DEFAULTS,
  type CutbackObservation,
  type CutbackParams,
  type CutbackState,
  floorOf,
  initialCutback,
  restoreCutback,
  stepCutback,
} from '../strategies/auto-cutback.js';
import {
  type BarCloses,
  emptyBarCloses,
  noteBarPrice,
  RISK_PARITY_DEFAULTS,
  riskParityWeights,
} from '../strategies/risk-parity.js';

/**
 * The allocator's two guards on sizing (DESIGN §3 `allocator`, §8): auto-cutback's multiplier, persisted in LMDB
 * and restored fail closed (never larger after a restart than before it), and risk parity's inverse-volatility
 * weights from bar closes of the live prices. The engine reads both on every signal; they are recomputed on the
 * trading loop's 1 s tick, not per tick.
 */
export interface AllocationGuardsDeps {
  cutbackEnabled: boolean;
  riskParityEnabled: boolean;
  kv: KvStore;
  metrics: Metrics;
  log: Logger;
  barMs: number;
  maxDrawdownPct: number;
  /** The symbols each venue trades (risk parity weighs these). */
  symbols: Readonly<Record<string, readonly string[]>>;
  now: () => number;
  cutback?: Partial<Omit<CutbackParams, 'maxDrawdownPct'>>;
}

export const CUTBACK_KEY = 'auto_cutback';

export function createAllocationGuards(deps: AllocationGuardsDeps) {
  const { kv, metrics, now } = deps;
  const log = deps.log.child({ actor: 'allocator' });
  const params: CutbackParams = { ...CUTBACK_DEFAULTS, ...deps.cutback, maxDrawdownPct: deps.maxDrawdownPct };
  let cutback: CutbackState = deps.cutbackEnabled
    ? restoreCutback(kv.get(CUTBACK_KEY), params, now())
    : initialCutback();
  metrics.autoCutbackScale.set(deps.cutbackEnabled ? cutback.scale : 1);
  /** The multiplier sits at its floor (enabled only): the cause of the system's global `auto_cutback` REDUCING. */
  const atFloor = (): boolean => deps.cutbackEnabled && cutback.scale <= floorOf(params) + 1e-9;
  const bars = new Map<string, BarCloses>();
  const weights = new Map<string, Record<string, number>>();

  return {
    /** Auto-cutback's multiplier (1 when disabled). */
    sizeScale: (): number => (deps.cutbackEnabled ? cutback.scale : 1),
    cutbackState: (): CutbackState => ({ ...cutback }),
    atFloor,
    /**
     * The trading loop's rule (reducing-scopes.ts): a drawdown at the equity breaker's limit with the multiplier at
     * its floor puts the system in global REDUCING; `maxDrawdownPct` is the limit in force now (policies may move it).
     */
    reducingFor: (drawdownPct: number, maxDrawdownPct: number = params.maxDrawdownPct): boolean =>
      drawdownPct >= maxDrawdownPct && atFloor(),
    /** One observation of the breakers; persists and logs a change. */
    async observe(o: CutbackObservation): Promise<void> {
      if (!deps.cutbackEnabled) return;
      const next = stepCutback(cutback, o, params);
      const changed = next.scale !== cutback.scale;
      cutback = next;
      metrics.autoCutbackScale.set(next.scale);
      if (!changed) return;
      log.warn({ scale: next.scale, reason: next.reason }, `auto-cutback: sizes × ${next.scale.toFixed(2)}`);
      await kv
        .put(CUTBACK_KEY, next)
        .catch((e: unknown) => log.error({ err: errorMessage(e) }, 'auto-cutback persist failed'));
    },
    notePrice(venue: string, symbol: string, price: number, at: number): void {
      if (!deps.riskParityEnabled) return;
      const key = `${venue}|${symbol}`;
      let b = bars.get(key);
      if (!b) {
        b = emptyBarCloses();
        bars.set(key, b);
      }
      noteBarPrice(b, price, at, deps.barMs, RISK_PARITY_DEFAULTS.maxBars);
    },
    /** Recomputes every venue's weights from the bar closes (and exports them). */
    refreshWeights(): void {
      if (!deps.riskParityEnabled) return;
      for (const [venue, syms] of Object.entries(deps.symbols)) {
        if (syms.length === 0) continue;
        const closes: Record<string, number[]> = {};
        for (const s of syms) closes[s] = bars.get(`${venue}|${s}`)?.closes ?? [];
        const w = riskParityWeights(closes);
        weights.set(venue, w);
        for (const [s, v] of Object.entries(w)) metrics.riskParityWeight.set({ venue, symbol: s }, v);
      }
    },
    /** The venue's weights, or undefined when risk parity is off (the allocator then uses plain shares). */
    riskWeights: (venue: string): Readonly<Record<string, number>> | undefined =>
      deps.riskParityEnabled ? weights.get(venue) : undefined,
  };
}

export type AllocationGuards = ReturnType<typeof createAllocationGuards>;
