/**
 * Auto-cutback (AUTO_CUTBACK_ENABLED, DESIGN §8): a size multiplier in [floor, 1] that the allocator applies to
 * every target position. It is cut at once — to the floor on any breaker trip, and linearly with the equity
 * drawdown past a grace band (reaching the floor at the equity breaker's drawdown limit) — and
 * restored only gradually: one `stepUp` per `stepMs` while healthy, never above what the current drawdown allows.
 * Pure: the caller feeds it the breaker views with their time and persists the state.
 */
export interface CutbackParams {
  /** Smallest multiplier (sizes never go to zero through cutback alone: the breakers do that). */
  floor: number;
  /** Restoration per step once healthy. */
  stepUp: number;
  /** Healthy time between two restoration steps (ms). */
  stepMs: number;
  /** The equity breaker's drawdown limit (%): the drawdown at which the multiplier reaches the floor. */
  maxDrawdownPct: number;
  /**
   * Fraction of `maxDrawdownPct` tolerated before any cut: the ordinary give-back of an open position is not a
   * loss streak, and a multiplier a hair under 1 would hold the restoration clock for nothing.
   */
  graceFraction: number;
}

export const CUTBACK_DEFAULTS = { floor: 0.25, stepUp: 0.1, stepMs: 5 * 60_000, graceFraction: 0.25 } as const;

export interface CutbackState {
  scale: number;
  /** When the scale last changed, or the last restoration step (epoch ms); null before any observation. */
  lastChangeAt: number | null;
  reason: string;
}

export interface CutbackObservation {
  at: number;
  drawdownPct: number;
  /** Any breaker (equity or venue) tripped, or unavailable (fail closed). */
  tripped: boolean;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** The fresh state (full size). */
export function initialCutback(): CutbackState {
  return { scale: 1, lastChangeAt: null, reason: '' };
}

/** The floor as given, made usable: a number in [0, 1] (bad input means the most conservative, 0). */
export function floorOf(p: CutbackParams): number {
  return Number.isFinite(p.floor) ? clamp(p.floor, 0, 1) : 0;
}

/** The most the multiplier may be for this observation (1 when healthy and flat). */
export function cutbackCeiling(o: CutbackObservation, p: CutbackParams): number {
  const floor = floorOf(p);
  if (o.tripped) return floor;
  const dd = Number.isFinite(o.drawdownPct) ? Math.max(0, o.drawdownPct) : Number.POSITIVE_INFINITY;
  const max = p.maxDrawdownPct > 0 && Number.isFinite(p.maxDrawdownPct) ? p.maxDrawdownPct : 0;
  if (max === 0) return dd > 0 ? floor : 1;
  const grace = max * (Number.isFinite(p.graceFraction) ? clamp(p.graceFraction, 0, 0.99) : 0);
  if (dd <= grace) return 1;
  return clamp(1 - ((dd - grace) / (max - grace)) * (1 - floor), floor, 1);
}

/** One observation: cut at once to the ceiling if above it; otherwise restore by one step per `stepMs` healthy. */
export function stepCutback(s: CutbackState, o: CutbackObservation, p: CutbackParams): CutbackState {
  const floor = floorOf(p);
  const scale = Number.isFinite(s.scale) ? clamp(s.scale, floor, 1) : floor;
  const ceiling = cutbackCeiling(o, p);
  if (scale > ceiling + 1e-12)
    return {
      scale: ceiling,
      lastChangeAt: o.at,
      reason: o.tripped ? 'breaker_trip' : `drawdown ${o.drawdownPct.toFixed(2)}%`,
    };
  if (o.tripped) return { scale, lastChangeAt: o.at, reason: 'breaker_trip' };
  // Held down by the drawdown: the healthy clock starts only once the drawdown no longer holds it.
  if (scale >= ceiling - 1e-12) return { ...s, scale, lastChangeAt: ceiling < 1 ? o.at : (s.lastChangeAt ?? o.at) };
  const since = s.lastChangeAt ?? o.at;
  if (o.at - since < p.stepMs) return { ...s, scale, lastChangeAt: since };
  const next = Math.min(ceiling, scale + Math.max(0, p.stepUp));
  return { scale: next, lastChangeAt: o.at, reason: next >= 1 ? '' : 'restoring' };
}

/**
 * A persisted state read back at boot: fail closed — an unreadable one starts at the floor, never at full size,
 * and a readable one keeps its scale (restoration resumes from it, with its clock restarted).
 */
export function restoreCutback(raw: unknown, p: CutbackParams, at: number): CutbackState {
  const floor = floorOf(p);
  const r = raw as Partial<CutbackState> | undefined;
  if (raw === undefined) return initialCutback();
  if (!r || typeof r.scale !== 'number' || !Number.isFinite(r.scale))
    return { scale: floor, lastChangeAt: at, reason: 'restored_unreadable' };
  return { scale: clamp(r.scale, floor, 1), lastChangeAt: at, reason: typeof r.reason === 'string' ? r.reason : '' };
}
