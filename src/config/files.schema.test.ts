import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  CapitalAllocationsFileSchema,
  HmmCalibrationFileSchema,
  PoliciesFileSchema,
  StrategyWeightsFileSchema,
} from './files.schema.js';
import { OPS_FILES } from './ops-files.js';

const opsFile = (name: string) => new URL(`../../ops/${name}`, import.meta.url);

describe('ops file schemas', () => {
  it('accept the committed ops/ files', () => {
    const files = {
      'strategy_weights.json': StrategyWeightsFileSchema,
      'capital_allocations.json': CapitalAllocationsFileSchema,
      'policies.yaml': PoliciesFileSchema,
      'hmm_calibration.json': HmmCalibrationFileSchema,
    } as const;
    for (const [name, schema] of Object.entries(files)) {
      const text = readFileSync(opsFile(name), 'utf8');
      const data = name.endsWith('.yaml') ? parseYaml(text) : JSON.parse(text);
      const r = schema.safeParse(data);
      expect(r.success, `${name}: ${r.error?.message}`).toBe(true);
    }
  });

  it('accept every default used when a file is missing', () => {
    for (const f of OPS_FILES) expect(f.schema.safeParse(f.defaultValue).success, f.name).toBe(true);
  });

  it('normalise strategy weights to sum to 1 and count a missing model as 0', () => {
    const w = StrategyWeightsFileSchema.parse({ weights: { stable_model: 7, canary_model: 3 } });
    expect(w.weights.stable_model).toBeCloseTo(0.7);
    expect(w.weights.canary_model).toBeCloseTo(0.3);
    expect(w.raw).toEqual({ stable_model: 7, canary_model: 3 });
    expect(StrategyWeightsFileSchema.parse({ weights: { stable_model: 0.5 } }).weights).toEqual({
      stable_model: 1,
      canary_model: 0,
    });
  });

  it('reject negative, all-zero and unknown strategy weights', () => {
    expect(StrategyWeightsFileSchema.safeParse({ weights: { stable_model: -1, canary_model: 2 } }).success).toBe(false);
    expect(StrategyWeightsFileSchema.safeParse({ weights: { stable_model: 0, canary_model: 0 } }).success).toBe(false);
    expect(StrategyWeightsFileSchema.safeParse({ weights: { stable_model: 1, turbo_model: 1 } }).success).toBe(false);
  });

  it('reject capital allocations whose venue or symbol fractions exceed 1', () => {
    expect(CapitalAllocationsFileSchema.safeParse({ venues: { binance: 0.7, kraken: 0.4 } }).success).toBe(false);
    expect(CapitalAllocationsFileSchema.safeParse({ symbols: { BTCUSDT: 0.9, ETHUSDT: 0.2 } }).success).toBe(false);
    expect(CapitalAllocationsFileSchema.safeParse({ venues: { ftx: 1 } }).success).toBe(false);
    expect(
      CapitalAllocationsFileSchema.parse({ symbols: { BTCUSDT: 0.1, ETHUSDT: 0.2, SOLUSDT: 0.7 } }).reserve_pct,
    ).toBe(10);
  });

  it('reject a policy typo instead of ignoring it', () => {
    const r = PoliciesFileSchema.safeParse({ limits: { max_notional_usd: 10 } });
    expect(r.success).toBe(false);
  });

  it('default the HMM calibration to neutral scales and 3 states, and reject a zero gain', () => {
    expect(HmmCalibrationFileSchema.parse({})).toEqual({
      confidence_gain: 1,
      quote_multiplier: 1,
      cooldown_scale: 1,
      states: 3,
    });
    expect(HmmCalibrationFileSchema.safeParse({ confidence_gain: 0 }).success).toBe(false);
  });
});
