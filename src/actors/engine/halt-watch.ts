import { errorMessage } from '../../domain/errors.js';
import type { Logger } from '../../logging/logger.js';
import type { GovernanceState } from '../../machines/governance.machine.js';

/**
 * A halt or a REDUCING at any scope cancels the resting entry orders it refuses (DESIGN §3), edge-triggered on
 * the governance broadcast. Before boot recovery has finished nothing is recorded as handled: recovery applies
 * every restored scope itself, and a scope first seen here must still cancel once orders are accepted.
 */
export function createHaltWatch(deps: {
  accepting: () => boolean;
  cancelRefused: () => Promise<number>;
  log: Logger;
}): (g: GovernanceState) => void {
  const seen = new Set<string>();
  return (g) => {
    const current = new Set<string>();
    const note = (key: string, state: string) => {
      if (state === 'HALTED' || state === 'REDUCING') current.add(`${key}|${state}`);
    };
    note('global', g.global.state);
    for (const [v, s] of Object.entries(g.venues)) note(`venue:${v}`, s.state);
    for (const [k, s] of Object.entries(g.symbols)) note(`symbol:${k}`, s.state);
    if (!deps.accepting()) return;
    const fresh = [...current].filter((k) => !seen.has(k));
    seen.clear();
    for (const k of current) seen.add(k);
    if (fresh.length === 0) return;
    void deps
      .cancelRefused()
      .then((n) => {
        if (n > 0)
          deps.log.warn({ scopes: fresh, cancelled: n }, 'trading halted or reducing: resting entries cancelled');
      })
      .catch((e: unknown) => deps.log.error({ err: errorMessage(e) }, 'cancel on halt failed'));
  };
}
