import type { Health } from '../machines/health.js';

/**
 * What the HTTP layer may know and do about the money guards under `guards:<venue>` (depeg, funding, and
 * later the stop validator). A guard that is not running is reported `running: false, active: true` (fail closed).
 */
export interface GuardView {
  /** Actor id, e.g. `guard:depeg:binance`. */
  id: string;
  /** `depeg`, `funding`, `stopval`… */
  kind: string;
  venue: string;
  running: boolean;
  /** True while the guard restricts trading (tripped, spiking, or not running). */
  active: boolean;
  health: Health;
  reason: string;
  /** The guard's own view (JSON). */
  state: Record<string, unknown>;
}

export interface GuardsPort {
  list(): GuardView[];
  /**
   * Re-arms the depeg guard (the runbook's manual helper). Throws AppError: NOT_FOUND (no depeg guard),
   * ACTOR_UNAVAILABLE (not running), CONFLICT (not tripped, parity still broken or the cooldown not over).
   */
  rearmDepeg(actor: string): Promise<{ before: GuardView; after: GuardView }>;
}
