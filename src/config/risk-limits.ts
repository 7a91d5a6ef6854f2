import type { RiskLimits } from '../domain/risk-limits.js';
import type { Policies } from './files.schema.js';
import type { Config } from './load-config.js';

export type { RiskLimits };

type LimitFlags =
  | 'MAX_NOTIONAL_USDT'
  | 'MAX_SYMBOL_EXPOSURE_USDT'
  | 'MAX_VENUE_EXPOSURE_USDT'
  | 'MAX_ASSET_EXPOSURE_USDT'
  | 'EQUITY_FLOOR_USD'
  | 'MAX_DRAWDOWN_PCT'
  | 'EQUITY_COOLDOWN_SEC'
  | 'ORDER_COOLDOWN_SEC';

// A policy only tightens (fail closed): the smaller cap, the higher floor, the longer cooldown wins.
const lower = (env: number, ...p: (number | undefined)[]) => Math.min(env, ...p.filter((x) => x !== undefined));
const higher = (env: number, ...p: (number | undefined)[]) => Math.max(env, ...p.filter((x) => x !== undefined));

/** The stricter of env and policy for every limit, with the symbol's overrides when `symbol` is given. */
export function resolveRiskLimits(config: Pick<Config, LimitFlags>, policies: Policies, symbol?: string): RiskLimits {
  const o = symbol === undefined ? undefined : policies.symbols.overrides[symbol];
  return {
    maxNotionalUsdt: lower(config.MAX_NOTIONAL_USDT, policies.limits.max_notional_usdt, o?.max_notional_usdt),
    maxSymbolExposureUsdt: lower(
      config.MAX_SYMBOL_EXPOSURE_USDT,
      policies.limits.max_symbol_exposure_usdt,
      o?.max_exposure_usdt,
    ),
    maxVenueExposureUsdt: lower(config.MAX_VENUE_EXPOSURE_USDT, policies.limits.max_venue_exposure_usdt),
    maxAssetExposureUsdt: lower(config.MAX_ASSET_EXPOSURE_USDT, policies.limits.max_asset_exposure_usdt),
    equityFloorUsd: higher(config.EQUITY_FLOOR_USD, policies.equity.floor_usd),
    maxDrawdownPct: lower(config.MAX_DRAWDOWN_PCT, policies.equity.max_drawdown_pct),
    equityCooldownSec: higher(config.EQUITY_COOLDOWN_SEC, policies.equity.cooldown_sec),
    orderCooldownSec: higher(config.ORDER_COOLDOWN_SEC, policies.cooldowns.order_sec, o?.order_cooldown_sec),
  };
}

/** Whether the policy lets `symbol` trade: not blocked, and listed when an allowlist is given. */
export function isSymbolAllowedByPolicy(policies: Policies, symbol: string): boolean {
  if (policies.symbols.blocked.includes(symbol)) return false;
  return policies.symbols.allowed.length === 0 || policies.symbols.allowed.includes(symbol);
}
