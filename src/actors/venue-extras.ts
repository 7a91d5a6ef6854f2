import type { GovernanceState } from '../machines/governance.machine.js';
import { effectiveState } from '../machines/governance.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StrategyEnv } from '../strategies/symbol-strategy.js';
import type { ChildSpec } from '../supervisor/policy.js';
import type { SupervisorHooks } from '../supervisor/supervisor.js';
import type { BreakerEffects } from './breaker-effects.js';
import type { Guards } from './guards.actors.js';
import type { StopValidator } from './stop-validator.actors.js';
import { buildSymbolsSupervisor, type Calibrator } from './symbol.actors.js';
import type { TradingConfig } from './trading-deps.js';
import type { TradingEngine } from './trading-engine.js';

/**
 * What each traded venue's subtree holds besides its connection actors (bosun-tree.ts asks for it): the venue
 * error-rate breaker, `symbols:<venue>` with a symbol actor per live symbol, and `guards:<venue>` with the depeg and
 * funding guards and the venue's stop validator. Remembers each venue's symbol spec for the scanner's additions.
 */
export function createVenueExtras(w: {
  config: TradingConfig;
  symbols: readonly string[];
  liveSymbols: Record<string, readonly string[]>;
  symbolSpecs: Map<string, (symbol: string) => ChildSpec>;
  env: () => StrategyEnv;
  governance: () => GovernanceState | undefined;
  engine: TradingEngine;
  calibrator: Calibrator;
  metrics: Metrics;
  now: () => number;
  breakers: BreakerEffects;
  stopValidators: ReadonlyMap<string, StopValidator>;
  guards: Guards;
}) {
  const { config, symbols, liveSymbols, symbolSpecs, env, governance, engine, calibrator, metrics, now } = w;
  const { breakers, stopValidators, guards } = w;
  return function venueExtras(
    venue: string,
    hooks: SupervisorHooks,
  ): Array<{ spec: ChildSpec; logics: Record<string, unknown> }> {
    const sym = buildSymbolsSupervisor({
      venue,
      symbols: liveSymbols[venue] ?? symbols,
      barMs: config.BAR_MS,
      baseCooldownMs: config.ORDER_COOLDOWN_SEC * 1000,
      env,
      // Fail closed: no governance view, nothing trades.
      trading: (v, s) => {
        const g = governance();
        return g ? effectiveState(g, v, s) : 'HALTED';
      },
      onSignal: (e) => engine.onSignal(e),
      calibrator,
      metrics,
      hooks,
      now,
    });
    symbolSpecs.set(venue, sym.child);
    return [
      breakers.venueChild(venue),
      sym,
      // guards:<venue>: depeg and funding, and stopval:<venue> (every position has a live server-side stop).
      ...(() => {
        const stopval = stopValidators.get(venue);
        const g = guards.buildGuardsSubtree(venue, hooks, stopval ? [stopval.child()] : []);
        return g ? [g] : [];
      })(),
    ];
  };
}
