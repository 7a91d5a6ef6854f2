import { describe, expect, it } from 'vitest';
import { PoliciesFileSchema } from './files.schema.js';
import { loadConfig } from './load-config.js';
import { isSymbolAllowedByPolicy, resolveRiskLimits } from './risk-limits.js';

const config = loadConfig({ MAX_NOTIONAL_USDT: '100', EQUITY_FLOOR_USD: '1000', ORDER_COOLDOWN_SEC: '30' });

describe('resolveRiskLimits', () => {
  it('uses the env limits when the policy is empty', () => {
    const l = resolveRiskLimits(config, PoliciesFileSchema.parse({}));
    expect(l.maxNotionalUsdt).toBe(100);
    expect(l.equityFloorUsd).toBe(1000);
  });

  it('lets a policy tighten but never loosen a limit', () => {
    const p = PoliciesFileSchema.parse({
      limits: { max_notional_usdt: 500, max_venue_exposure_usdt: 10 },
      equity: { floor_usd: 10, max_drawdown_pct: 5 },
      cooldowns: { order_sec: 120 },
    });
    const l = resolveRiskLimits(config, p);
    expect(l.maxNotionalUsdt).toBe(100); // policy 500 would loosen: env wins
    expect(l.maxVenueExposureUsdt).toBe(10);
    expect(l.equityFloorUsd).toBe(1000); // a lower floor would loosen
    expect(l.maxDrawdownPct).toBe(5);
    expect(l.orderCooldownSec).toBe(120);
  });

  it('applies per-symbol overrides only to that symbol', () => {
    const p = PoliciesFileSchema.parse({ symbols: { overrides: { BTCUSDT: { max_notional_usdt: 40 } } } });
    expect(resolveRiskLimits(config, p, 'BTCUSDT').maxNotionalUsdt).toBe(40);
    expect(resolveRiskLimits(config, p, 'ETHUSDT').maxNotionalUsdt).toBe(100);
  });
});

describe('isSymbolAllowedByPolicy', () => {
  it('blocks listed symbols and, with an allowlist, everything not on it', () => {
    const open = PoliciesFileSchema.parse({ symbols: { blocked: ['DOGEUSDT'] } });
    expect(isSymbolAllowedByPolicy(open, 'BTCUSDT')).toBe(true);
    expect(isSymbolAllowedByPolicy(open, 'DOGEUSDT')).toBe(false);
    const strict = PoliciesFileSchema.parse({ symbols: { allowed: ['BTCUSDT'] } });
    expect(isSymbolAllowedByPolicy(strict, 'ETHUSDT')).toBe(false);
  });
});
