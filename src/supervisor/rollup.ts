import { HEALTH_RANK, type Health } from '../machines/health.js';

/** Supervisor bookkeeping for a child, separate from the health it reports. */
export type Liveness = 'running' | 'backoff' | 'stopped' | 'removed' | 'escalated';

export interface ChildView {
  id: string;
  liveness: Liveness;
  health: Health;
  reason: string;
  critical: boolean;
}

export interface Rollup {
  value: Health;
  reason: string;
}

/**
 * DESIGN §3 / reference §4.5: a child's contribution to its supervisor's health.
 * running → its own health, except HALTED on a non-critical child only degrades the parent;
 * in backoff or stopped by an operator → HALTED if critical else DEGRADED; removed → ignored;
 * an escalated (exited) child supervisor → HALTED.
 */
export function contribution(c: ChildView): Health | undefined {
  switch (c.liveness) {
    case 'removed':
      return undefined;
    case 'escalated':
      return 'HALTED';
    case 'backoff':
    case 'stopped':
      return c.critical ? 'HALTED' : 'DEGRADED';
    case 'running':
      if (c.health === 'HALTED') return c.critical ? 'HALTED' : 'DEGRADED';
      return c.health;
  }
}

/** Worst contribution wins; the reason names the worst offender as `<childId>:<liveness>:<health>[: why]`. */
export function rollup(children: readonly ChildView[]): Rollup {
  let value: Health = 'OK';
  let reason = '';
  for (const c of children) {
    const h = contribution(c);
    if (h === undefined || h === 'OK') continue;
    if (HEALTH_RANK[h] > HEALTH_RANK[value]) {
      value = h;
      reason = `${c.id}:${c.liveness}:${c.health}${c.reason ? `: ${c.reason}` : ''}`;
    }
  }
  return { value, reason };
}
