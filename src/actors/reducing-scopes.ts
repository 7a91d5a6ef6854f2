import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { GovernanceState, ScopeState } from '../machines/governance.machine.js';
import type { TradingCommand } from '../supervisor/runtime-port.js';

/**
 * REDUCING set and cleared by the system (DESIGN §3): while a guard unwinds exposure, its scope takes only orders
 * that reduce it, and the scope returns to ACTIVE by itself once the cause is gone.
 *
 * | reason         | scope                                   | set when                      | cleared when             |
 * |----------------|-----------------------------------------|-------------------------------|--------------------------|
 * | `depeg_exit`   | each USDT-quoted symbol being unwound   | DEPEG_EXIT_RISK sells it      | the depeg guard re-arms  |
 * | `funding_trim` | the symbol whose perpetual is trimmed   | the trim and hedge are sent   | the funding spike ends   |
 * | `auto_cutback` | global                                  | auto-cutback reaches its floor| the scale rises above it |
 *
 * Only an ACTIVE scope is moved to REDUCING, and only a REDUCING scope with one of these reasons is moved back:
 * the system never loosens an operator's HALTED or REDUCING. The rule is evaluated from governance itself (its
 * reasons are durable), so a restart in the middle still clears the scope when the cause is gone.
 */
export type SystemReducingReason = 'depeg_exit' | 'funding_trim' | 'auto_cutback';
const REASONS: ReadonlySet<string> = new Set<SystemReducingReason>(['depeg_exit', 'funding_trim', 'auto_cutback']);

export interface ReducingScopesDeps {
  governance: () => GovernanceState | undefined;
  setTrading: (cmd: TradingCommand) => Promise<unknown>;
  /** Whether the cause of a system REDUCING is still there (`key`: venue id or `venue:SYMBOL`, '' for global). */
  stillNeeded: (reason: SystemReducingReason, scope: 'global' | 'venue' | 'symbol', key: string) => boolean;
  log: Logger;
}

export function createReducingScopes(deps: ReducingScopesDeps) {
  const scopeState = (g: GovernanceState, scope: 'global' | 'venue' | 'symbol', key: string): ScopeState | undefined =>
    scope === 'global' ? g.global : scope === 'venue' ? g.venues[key] : g.symbols[key];

  return {
    /** Moves an ACTIVE scope to REDUCING for `reason`; anything stricter is left as it is. */
    async enter(scope: 'global' | 'venue' | 'symbol', key: string, reason: SystemReducingReason): Promise<boolean> {
      const g = deps.governance();
      if (!g) return false;
      const current = scopeState(g, scope, key)?.state ?? 'ACTIVE';
      if (current !== 'ACTIVE') return false;
      await deps.setTrading({
        scope,
        ...(scope === 'global' ? {} : { key }),
        state: 'REDUCING',
        reason,
        actor: 'system',
        command: reason,
      });
      deps.log.warn({ scope, key, reason }, 'trading REDUCING: only orders that reduce exposure');
      return true;
    },
    /** Clears every system REDUCING whose cause is gone (called on the trading loop's 1 s tick). */
    async review(): Promise<number> {
      const g = deps.governance();
      if (!g) return 0;
      const candidates: Array<['global' | 'venue' | 'symbol', string, ScopeState]> = [
        ['global', '', g.global],
        ...Object.entries(g.venues).map(([k, s]) => ['venue', k, s] as ['venue', string, ScopeState]),
        ...Object.entries(g.symbols).map(([k, s]) => ['symbol', k, s] as ['symbol', string, ScopeState]),
      ];
      let cleared = 0;
      for (const [scope, key, s] of candidates) {
        if (s.state !== 'REDUCING' || !REASONS.has(s.reason)) continue;
        if (deps.stillNeeded(s.reason as SystemReducingReason, scope, key)) continue;
        try {
          await deps.setTrading({
            scope,
            ...(scope === 'global' ? {} : { key }),
            state: 'ACTIVE',
            reason: `${s.reason}_cleared`,
            actor: 'system',
            command: 'resume',
          });
          cleared += 1;
          deps.log.info({ scope, key, reason: s.reason }, 'trading ACTIVE again: the cause of REDUCING is gone');
        } catch (e) {
          deps.log.warn({ scope, key, err: errorMessage(e) }, 'could not clear a system REDUCING');
        }
      }
      return cleared;
    },
  };
}

export type ReducingScopes = ReturnType<typeof createReducingScopes>;
