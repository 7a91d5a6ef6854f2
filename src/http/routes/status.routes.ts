import type { GovernanceView, ScopeTrading, TradingState } from '../../supervisor/runtime-port.js';
import type { RouteContext, ZodApp } from '../route-context.js';

/** The body of `GET /status` (the runbook's daily check reads `trading_enabled`, `snapshot_loaded`, `balances`). */
export interface StatusBody {
  trading_enabled: boolean;
  trading_state: TradingState;
  governance: GovernanceView;
  health: { value: string; reason: string };
  ready: boolean;
  snapshot_loaded: boolean;
  [extra: string]: unknown;
}

/** Governance as operators read it: each scope's state with why, who and when. */
export function governanceBody(g: GovernanceView): GovernanceView {
  return { global: g.global, venues: g.venues, symbols: g.symbols };
}

/** `trading_enabled` is true only while global trading is ACTIVE: REDUCING is not "enabled" for new entries. */
export function tradingEnabled(global: ScopeTrading): boolean {
  return global.state === 'ACTIVE';
}

/**
 * `GET /status` on both listeners. `snapshot_loaded` is false until the runtime reports a loaded portfolio
 * baseline; `balances` and other account fields come from `statusExtras()` once account actors exist, and may
 * override the defaults here.
 */
export function statusRoutes(app: ZodApp, ctx: RouteContext): void {
  const { runtime } = ctx.deps;
  app.get('/status', async (): Promise<StatusBody> => {
    const g = runtime.governance();
    return {
      trading_enabled: tradingEnabled(g.global),
      trading_state: g.global.state,
      governance: governanceBody(g),
      health: runtime.health(),
      ready: runtime.ready(),
      snapshot_loaded: false,
      ...runtime.statusExtras(),
    };
  });
}
