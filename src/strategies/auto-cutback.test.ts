import { describe, expect, it } from 'vitest';
import { type CutbackParams, cutbackCeiling, initialCutback, restoreCutback, stepCutback } from './auto-cutback.js';
import { createRng } from './seeded-random.js';

const P: CutbackParams = { floor: 0.25, stepUp: 0.1, stepMs: 1_000, maxDrawdownPct: 20, graceFraction: 0.25 };

describe('auto-cutback', () => {
  it.each([
    [{ drawdownPct: 0, tripped: false }, 1],
    [{ drawdownPct: 5, tripped: false }, 1], // inside the grace band (25% of 20%)
    [{ drawdownPct: 10, tripped: false }, 0.75],
    [{ drawdownPct: 20, tripped: false }, 0.25],
    [{ drawdownPct: 50, tripped: false }, 0.25],
    [{ drawdownPct: 0, tripped: true }, 0.25],
    [{ drawdownPct: Number.NaN, tripped: false }, 0.25],
  ])('ceiling for %o is %d', (o, want) => {
    expect(cutbackCeiling({ at: 0, ...o }, P)).toBeCloseTo(want, 12);
  });

  it('cuts to the floor at once on a trip and restores one step per healthy interval', () => {
    let s = stepCutback(initialCutback(), { at: 0, drawdownPct: 0, tripped: false }, P);
    expect(s.scale).toBe(1);
    s = stepCutback(s, { at: 100, drawdownPct: 0, tripped: true }, P);
    expect(s).toMatchObject({ scale: 0.25, reason: 'breaker_trip' });
    // Still tripped long after: no restoration while tripped.
    s = stepCutback(s, { at: 10_000, drawdownPct: 0, tripped: true }, P);
    expect(s.scale).toBe(0.25);
    // Healthy: nothing before one step of healthy time, then +0.1 per step.
    s = stepCutback(s, { at: 10_500, drawdownPct: 0, tripped: false }, P);
    expect(s.scale).toBe(0.25);
    s = stepCutback(s, { at: 11_000, drawdownPct: 0, tripped: false }, P);
    expect(s.scale).toBeCloseTo(0.35, 12);
    s = stepCutback(s, { at: 11_500, drawdownPct: 0, tripped: false }, P);
    expect(s.scale).toBeCloseTo(0.35, 12);
    for (let t = 12_000; t <= 30_000; t += 1_000) s = stepCutback(s, { at: t, drawdownPct: 0, tripped: false }, P);
    expect(s.scale).toBe(1);
  });

  it('a drawdown holds it down and restoration starts only once the drawdown eases', () => {
    let s = stepCutback(initialCutback(), { at: 0, drawdownPct: 10, tripped: false }, P);
    expect(s.scale).toBeCloseTo(0.75, 12);
    s = stepCutback(s, { at: 60_000, drawdownPct: 10, tripped: false }, P);
    expect(s.scale).toBeCloseTo(0.75, 12);
    s = stepCutback(s, { at: 60_500, drawdownPct: 0, tripped: false }, P);
    expect(s.scale).toBeCloseTo(0.75, 12);
    s = stepCutback(s, { at: 61_000, drawdownPct: 0, tripped: false }, P);
    expect(s.scale).toBeCloseTo(0.85, 12);
  });

  it('property: always in [floor, 1], never above the ceiling, and never rises by more than one step', () => {
    const rng = createRng(7);
    const rnd = () => rng.next();
    for (let run = 0; run < 50; run++) {
      let s = initialCutback();
      let at = 0;
      for (let i = 0; i < 100; i++) {
        at += Math.floor(rnd() * 2_000);
        const o = { at, drawdownPct: rnd() < 0.3 ? rnd() * 40 : 0, tripped: rnd() < 0.05 };
        const next = stepCutback(s, o, P);
        expect(next.scale).toBeGreaterThanOrEqual(P.floor - 1e-12);
        expect(next.scale).toBeLessThanOrEqual(1);
        expect(next.scale).toBeLessThanOrEqual(cutbackCeiling(o, P) + 1e-12);
        expect(next.scale - s.scale).toBeLessThanOrEqual(P.stepUp + 1e-12);
        s = next;
      }
    }
  });

  it('restores fail closed: never larger than persisted, unreadable state starts at the floor', () => {
    expect(restoreCutback({ scale: 0.4, lastChangeAt: 1, reason: 'breaker_trip' }, P, 99)).toMatchObject({
      scale: 0.4,
      lastChangeAt: 99,
    });
    expect(restoreCutback({ scale: 'x' }, P, 5).scale).toBe(0.25);
    expect(restoreCutback(null, P, 5).scale).toBe(0.25);
    expect(restoreCutback({ scale: 7 }, P, 5).scale).toBe(1);
    expect(restoreCutback(undefined, P, 5).scale).toBe(1);
  });
});
