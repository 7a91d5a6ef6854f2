import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { defaultPollSchedule, nextPhaseDelay, type PollSettings, schedulePeakPressure } from './poll-schedule.js';

const config = loadConfig({ LOG_LEVEL: 'silent' });
const defaults: PollSettings = {
  krakenTier: config.KRAKEN_TIER,
  feedPollMs: config.FEED_POLL_MS,
  reconcileSec: config.RECONCILE_INTERVAL_SEC,
  stopValidatorSec: config.STOP_VALIDATOR_INTERVAL_SEC,
  symbols: (config.TRADE_SYMBOLS ?? []).length,
};
const aligned = { accountRefresh: 0, reconcile: 0, stopValidator: 0 };

describe('default poll schedule against the venue budgets', () => {
  it('fits Kraken starter with headroom: peak budget pressure at most 0.8 (conn degrades at 0.9)', () => {
    expect(config.KRAKEN_TIER).toBe('starter');
    expect(schedulePeakPressure('kraken', defaultPollSchedule('kraken', defaults), 'starter')).toBeLessThanOrEqual(0.8);
  });

  it('the same jobs meeting on the bar-close second (every job from its actor start) degraded Kraken', () => {
    const peak = schedulePeakPressure(
      'kraken',
      defaultPollSchedule('kraken', { ...defaults, phases: aligned }),
      'starter',
    );
    expect(peak).toBeGreaterThan(0.9);
  });

  it('fits every Kraken tier and Binance at the defaults', () => {
    for (const tier of ['starter', 'intermediate', 'pro'] as const)
      expect(
        schedulePeakPressure('kraken', defaultPollSchedule('kraken', { ...defaults, krakenTier: tier }), tier),
      ).toBeLessThanOrEqual(0.8);
    expect(schedulePeakPressure('binance', defaultPollSchedule('binance', defaults), 'starter')).toBeLessThanOrEqual(
      0.8,
    );
  });

  it('runs a phased job at its offset past each multiple of its period', () => {
    expect(nextPhaseDelay(60_000, 60_000, 25_000)).toBe(25_000);
    expect(nextPhaseDelay(85_000, 60_000, 25_000)).toBe(60_000);
    expect(nextPhaseDelay(86_000, 60_000, 25_000)).toBe(59_000);
    expect(nextPhaseDelay(1_000, 30_000, 10_000)).toBe(9_000);
    expect(nextPhaseDelay(12_000, 30_000, 10_000)).toBe(28_000);
  });
});
