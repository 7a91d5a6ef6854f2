import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PricePath, REGIMES, TRANSITIONS } from './price-path.js';

const BTC = { code: 'BTC', startUsd: 60_000, stable: false };

function trace(seed: number, steps: number, chunks: number[] = [steps]): number[] {
  const p = new PricePath(BTC, seed);
  const out: number[] = [];
  let at = 0;
  for (const c of chunks) {
    at = Math.min(steps, at + c);
    p.advanceTo(at, (_k, price) => out.push(price));
  }
  return out;
}

describe('PricePath', () => {
  it('is a pure function of seed and step, whatever the query rhythm', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 8 }),
        (seed, chunks) => {
          expect(trace(seed, 1200, [...chunks, 1200])).toEqual(trace(seed, 1200));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('differs between seeds', () => {
    expect(trace(1, 300)).not.toEqual(trace(2, 300));
  });

  it('switches regimes along a Markov chain and reports every switch', () => {
    const p = new PricePath(BTC, 9);
    const perStep: string[] = [p.regime];
    p.advanceTo(3 * 24 * 3600, () => perStep.push(p.regime));
    const runs = p.regimeRuns();
    expect(new Set(runs.map((r) => r.regime))).toEqual(new Set(REGIMES.map((r) => r.name)));
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i]!;
      const end = (runs[i + 1]?.fromStep ?? perStep.length) - 1;
      expect(perStep.slice(r.fromStep, end + 1).every((x) => x === r.regime)).toBe(true);
      expect(p.regimeAt(end)).toBe(r.regime);
      if (i > 0) expect(r.fromStep % 60).toBe(0);
    }
  });

  it('has distinct drift and volatility per regime, and stochastic transition rows', () => {
    const drifts = new Set(REGIMES.map((r) => r.driftPerHour));
    const vols = new Set(REGIMES.map((r) => r.volPerHour));
    expect(drifts.size).toBe(3);
    expect(vols.size).toBe(3);
    for (const row of TRANSITIONS) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('keeps a stablecoin within a few basis points of 1', () => {
    const p = new PricePath({ code: 'USDT', startUsd: 1, stable: true }, 4);
    let worst = 0;
    p.advanceTo(24 * 3600, (_k, v) => {
      worst = Math.max(worst, Math.abs(v - 1));
    });
    expect(worst).toBeLessThan(0.002);
    expect(p.regime).toBe('peg');
  });

  it('keeps consistent minute bars for the last 24 h', () => {
    const p = new PricePath(BTC, 3);
    p.advanceTo(26 * 3600);
    const bars = p.bars();
    expect(bars).toHaveLength(1440);
    for (const b of bars) {
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
    }
    expect(bars.at(-1)?.close).toBe(p.price);
  });

  it('refuses a step that does not divide a minute', () => {
    expect(() => new PricePath(BTC, 1, 7000)).toThrow(/divide one minute/);
  });
});
