import { z } from 'zod';
import { boundParams, TREND_BOUNDS, type TrendParams } from './trend.js';

/**
 * Trend auto-tune (pure): every `everyN` closed trend trades it looks at the last `window` outcomes; mostly
 * losing makes the trend slower and stricter (longer slow EMA, higher entry threshold), mostly winning makes it
 * faster and looser. Steps are small and always inside TREND_BOUNDS with fast < slow. Disabled
 * (TREND_AUTO_TUNE_ENABLED=false), it records nothing and changes nothing.
 */
export interface TradeOutcome {
  pnlPct: number;
  at: number;
}

export interface AutoTuneState {
  version: 1;
  params: TrendParams;
  outcomes: TradeOutcome[];
  /** Outcomes recorded in total (the re-tune runs every `everyN` of them). */
  seen: number;
  adjustments: number;
  updatedAt: number;
}

export interface AutoTuneChange {
  from: TrendParams;
  to: TrendParams;
  why: string;
}

export function initialAutoTune(defaults: TrendParams, at: number): AutoTuneState {
  return { version: 1, params: boundParams(defaults), outcomes: [], seen: 0, adjustments: 0, updatedAt: at };
}

const within = (lo: number, hi: number) => z.number().finite().min(lo).max(hi);

export const AutoTuneStateSchema = z.strictObject({
  version: z.literal(1),
  params: z
    .strictObject({
      fastBars: within(...TREND_BOUNDS.fastBars).int(),
      slowBars: within(...TREND_BOUNDS.slowBars).int(),
      entryZ: within(...TREND_BOUNDS.entryZ),
    })
    .refine((p) => p.fastBars < p.slowBars, 'fastBars must be below slowBars'),
  outcomes: z.array(z.strictObject({ pnlPct: z.number().finite(), at: z.number().finite() })).max(1_000),
  seen: z.number().int().min(0),
  adjustments: z.number().int().min(0),
  updatedAt: z.number().finite(),
});

export function recordOutcome(
  s: AutoTuneState,
  o: TradeOutcome,
  opts: { enabled: boolean; everyN?: number; window?: number },
): { state: AutoTuneState; change: AutoTuneChange | null } {
  if (!opts.enabled || !Number.isFinite(o.pnlPct)) return { state: s, change: null };
  const window = opts.window ?? 20;
  const everyN = opts.everyN ?? 5;
  const outcomes = [...s.outcomes, o].slice(-window);
  const recorded = { ...s, outcomes, seen: s.seen + 1, updatedAt: o.at };
  if (recorded.seen % everyN !== 0) return { state: recorded, change: null };
  const recent = outcomes.slice(-everyN);
  const losing = recent.filter((x) => x.pnlPct < 0).length;
  const share = losing / recent.length;
  let to: TrendParams;
  let why: string;
  if (share >= 0.6) {
    to = boundParams({
      fastBars: s.params.fastBars + 1,
      slowBars: Math.round(s.params.slowBars * 1.1),
      entryZ: s.params.entryZ + 0.05,
    });
    why = `${losing}/${recent.length} losing`;
  } else if (share <= 0.4) {
    to = boundParams({
      fastBars: s.params.fastBars - 1,
      slowBars: Math.round(s.params.slowBars / 1.1),
      entryZ: s.params.entryZ - 0.05,
    });
    why = `${recent.length - losing}/${recent.length} winning`;
  } else return { state: recorded, change: null };
  to = { ...to, entryZ: Math.round(to.entryZ * 100) / 100 };
  const same = to.fastBars === s.params.fastBars && to.slowBars === s.params.slowBars && to.entryZ === s.params.entryZ;
  if (same) return { state: recorded, change: null };
  return { state: { ...recorded, params: to, adjustments: s.adjustments + 1 }, change: { from: s.params, to, why } };
}

export function formatAutoTuneLine(c: AutoTuneChange): string {
  return `[TREND-AUTO] fastBars ${c.from.fastBars}→${c.to.fastBars} slowBars ${c.from.slowBars}→${c.to.slowBars} entryZ ${c.from.entryZ.toFixed(2)}→${c.to.entryZ.toFixed(2)} (why: ${c.why})`;
}
