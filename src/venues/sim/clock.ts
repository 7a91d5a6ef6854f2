/**
 * The simulator's market clock. Prices, funding, order timestamps and rate-limit windows follow it; it is real
 * time by default and can be replaced (tests inject a manual clock) or advanced in-process and over HTTP.
 *
 * Request signatures are NOT checked against this clock: clients sign with their own wall clock, so a test that
 * advances the market eight hours to collect funding must not turn every signed request into -1021. The auth
 * clock is wall time plus the clock-skew fault (see `faults.ts`).
 */

/** Anything that tells the time in epoch ms; `advance` is optional (a real clock cannot be moved). */
export interface SimClock {
  now(): number;
  advance?(ms: number): void;
}

/** A clock that only moves when told to: deterministic tests. */
export interface ManualClock extends SimClock {
  advance(ms: number): void;
  set(epochMs: number): void;
}

/** 2025-01-01T00:00:00Z, a fixed default origin for manual clocks (aligned to every funding interval). */
export const DEFAULT_MANUAL_START_MS = Date.UTC(2025, 0, 1);

/** A manual clock starting at `startMs`. */
export function createManualClock(startMs: number = DEFAULT_MANUAL_START_MS): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock can only move forward, got ${ms} ms`);
      t += ms;
    },
    set(epochMs: number) {
      if (epochMs < t) throw new RangeError(`clock can only move forward (${epochMs} < ${t})`);
      t = epochMs;
    },
  };
}

/** Wall time. */
export const realClock: SimClock = { now: () => Date.now() };

/**
 * The simulator's view of a clock: the given clock plus an offset that `advance` grows when the clock itself
 * cannot be advanced (the real clock), so `sim.advance(8h)` works in every mode.
 */
export class SimTime {
  private offsetMs = 0;

  constructor(private readonly base: SimClock) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock can only move forward, got ${ms} ms`);
    if (this.base.advance !== undefined) this.base.advance(ms);
    else this.offsetMs += ms;
  }
}
