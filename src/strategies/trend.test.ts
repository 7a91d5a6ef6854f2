import { describe, expect, it } from 'vitest';
import { createRng } from './seeded-random.js';
import { boundParams, initialTrendState, TREND_BOUNDS, TREND_DEFAULTS, trendStep } from './trend.js';
import { AutoTuneStateSchema, formatAutoTuneLine, initialAutoTune, recordOutcome } from './trend-auto-tune.js';

describe('trend follow', () => {
  it('is flat until warm, then long in a steady uptrend and short in a downtrend, firing once per crossing', () => {
    let s = initialTrendState();
    const rng = createRng(3);
    let price = 100;
    let fired = 0;
    let last: ReturnType<typeof trendStep> = trendStep(initialTrendState(), 100, TREND_DEFAULTS);
    for (let i = 0; i < 200; i++) {
      price *= 1 + 0.002 + (rng.next() - 0.5) * 0.002;
      const r = trendStep(s, price, TREND_DEFAULTS);
      s = r.state;
      if (i < TREND_DEFAULTS.slowBars - 1) expect(r.signal).toBe(0);
      if (r.fired) fired += 1;
      last = r;
    }
    expect(last.signal).toBeGreaterThan(0.5);
    expect(fired).toBe(1);
    for (let i = 0; i < 200; i++) {
      price *= 1 - 0.003 + (rng.next() - 0.5) * 0.002;
      last = trendStep(s, price, TREND_DEFAULTS);
      s = last.state;
    }
    expect(last.signal).toBeLessThan(-0.5);
  });

  it('ignores invalid closes', () => {
    const s = initialTrendState();
    for (const p of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(trendStep(s, p, TREND_DEFAULTS).state).toBe(s);
  });
});

describe('trend auto-tune', () => {
  it('stays inside the bounds with fast < slow under 10,000 random outcomes', () => {
    const rng = createRng(11);
    let s = initialAutoTune(TREND_DEFAULTS, 0);
    let changes = 0;
    for (let i = 0; i < 10_000; i++) {
      const bias = Math.floor(i / 1_000) % 2 === 0 ? -0.3 : 0.3;
      const r = recordOutcome(s, { pnlPct: rng.next() - 0.5 + bias, at: i }, { enabled: true });
      s = r.state;
      if (r.change) {
        changes += 1;
        expect(formatAutoTuneLine(r.change)).toMatch(/^\[TREND-AUTO\] fastBars \d+→\d+ slowBars \d+→\d+ entryZ/);
      }
      const p = s.params;
      expect(p.fastBars).toBeGreaterThanOrEqual(TREND_BOUNDS.fastBars[0]);
      expect(p.slowBars).toBeLessThanOrEqual(TREND_BOUNDS.slowBars[1]);
      expect(p.entryZ).toBeGreaterThanOrEqual(TREND_BOUNDS.entryZ[0]);
      expect(p.entryZ).toBeLessThanOrEqual(TREND_BOUNDS.entryZ[1]);
      expect(p.fastBars).toBeLessThan(p.slowBars);
    }
    expect(changes).toBeGreaterThan(20);
    expect(AutoTuneStateSchema.safeParse(s).success).toBe(true);
  });

  it('losing streaks slow it down, winning streaks speed it up', () => {
    let s = initialAutoTune(TREND_DEFAULTS, 0);
    for (let i = 0; i < 5; i++) s = recordOutcome(s, { pnlPct: -1, at: i }, { enabled: true }).state;
    expect(s.params.slowBars).toBeGreaterThan(TREND_DEFAULTS.slowBars);
    expect(s.params.entryZ).toBeGreaterThan(TREND_DEFAULTS.entryZ);
    const slowed = s.params;
    for (let i = 0; i < 5; i++) s = recordOutcome(s, { pnlPct: 1, at: 10 + i }, { enabled: true }).state;
    expect(s.params.slowBars).toBeLessThan(slowed.slowBars);
  });

  it('disabled, it records nothing and changes nothing', () => {
    const s = initialAutoTune(TREND_DEFAULTS, 0);
    let t = s;
    for (let i = 0; i < 50; i++) t = recordOutcome(t, { pnlPct: -5, at: i }, { enabled: false }).state;
    expect(t).toBe(s);
  });

  it('bounds parameters', () => {
    expect(boundParams({ fastBars: 500, slowBars: 5, entryZ: 9 })).toEqual({ fastBars: 9, slowBars: 10, entryZ: 2 });
  });
});
