import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { GovernanceState } from '../machines/governance.machine.js';
import type { Health } from '../machines/health.js';
import { alertField, digestText, governanceAlerts, healthAlert } from './alert-text.js';
import type { AlertInput, Notify } from './notifier.js';

export interface AlertSourcesOptions {
  notify: Notify;
  log: Logger;
  /** Total equity across venues, USD. */
  equityUsd: () => number;
  /** Orders with a fill updated after `since` (epoch ms). */
  tradesSince: (since: number) => number;
  digestPeriodMin: number;
  now?: () => number;
}

/** The hooks the runtime calls and the digest source, all feeding one `notify` (DESIGN §9). */
export interface AlertSources {
  /** RuntimeDeps.onHealthTransition: 🟢/🟡/🔴 with the actor and reason; breaker trips and resets. */
  onHealthTransition(actor: string, health: Health, reason: string): void;
  /** RuntimeDeps.onGovernance: kill, reduce and resume with who did it. */
  onGovernance(g: GovernanceState): void;
  /** The digest text: equity, P&L since the last digest, trades, open incidents. */
  digest(): string;
}

export function createAlertSources(opts: AlertSourcesOptions): AlertSources {
  const now = opts.now ?? Date.now;
  const incidents = new Map<string, string>();
  let lastGovernance: GovernanceState | undefined;
  let digestSince = now();
  let digestEquity: number | undefined;
  // Hooks run inside the actor system's event handling: queue and return, never throw or block there.
  const later = (a: AlertInput) =>
    void opts
      .notify(a)
      .catch((e: unknown) => opts.log.warn({ err: errorMessage(e), key: a.key }, 'could not queue an alert'));

  return {
    onHealthTransition(actor, health, reason) {
      const a = healthAlert(actor, health, reason);
      if (!a) return;
      if (health === 'OK') incidents.delete(actor);
      else incidents.set(actor, `${health} ${reason}`.trim());
      later(a);
    },
    onGovernance(g) {
      const prev = lastGovernance;
      lastGovernance = g;
      if (prev) for (const a of governanceAlerts(prev, g)) later(a);
      else if (g.global.state !== 'ACTIVE')
        later({
          key: 'governance:boot',
          text: `⛔ Bosun started with trading ${g.global.state} (reason: ${alertField(g.global.reason) || 'unknown'})`,
          severity: 'critical',
        });
    },
    digest() {
      const equity = opts.equityUsd();
      const since = digestSince;
      digestSince = now();
      const pnl = equity - (digestEquity ?? equity);
      digestEquity = equity;
      return digestText(
        {
          equityUsd: equity,
          pnlUsd: pnl,
          trades: opts.tradesSince(since),
          incidents: [...incidents].map(([id, why]) => `${id}: ${why}`),
          tradingState: lastGovernance?.global.state ?? 'unknown',
        },
        opts.digestPeriodMin,
      );
    },
  };
}
