/**
 * The limits the rails enforce (domain/rails.ts), after combining env flags with `ops/policies.yaml`
 * (config/risk-limits.ts resolves them; the type lives here so the pure rails need nothing from config/).
 */
export interface RiskLimits {
  maxNotionalUsdt: number;
  maxSymbolExposureUsdt: number;
  maxVenueExposureUsdt: number;
  maxAssetExposureUsdt: number;
  equityFloorUsd: number;
  maxDrawdownPct: number;
  equityCooldownSec: number;
  orderCooldownSec: number;
}
