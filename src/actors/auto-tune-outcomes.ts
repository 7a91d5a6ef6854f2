import { errorMessage } from '../domain/errors.js';
import type { Fill } from '../domain/portfolio.js';
import type { Logger } from '../logging/logger.js';
import { boundParams } from '../strategies/trend.js';
import { type AutoTuneState, formatAutoTuneLine, recordOutcome } from '../strategies/trend-auto-tune.js';
import { createAutoTuneFile } from './trend-auto-tune.file.js';

/**
 * Trend auto-tune's state (`state/runtime/trend_auto_tune.json`, DESIGN §8) and the outcomes that move it: every
 * strategy sell closes part of a position at the average entry price of the strategies' buys, and a trend
 * outcome (PnL %) steps the tuner. `[TREND-AUTO]` log lines keep the tag the runbook greps for.
 */
export function createAutoTuneOutcomes(deps: {
  path: string;
  defaults: { fastBars: number; slowBars: number; entryZ: number };
  enabled: boolean;
  log: Logger;
  now: () => number;
  /** A change of the tuned parameters reaches every symbol actor. */
  onChange: () => void;
}) {
  const { log } = deps;
  const file = createAutoTuneFile(deps.path, boundParams(deps.defaults), deps.now);
  const loaded = file.load();
  let state: AutoTuneState = loaded.state;
  if (loaded.source === 'corrupt')
    log.warn({ path: file.path, warning: loaded.warning }, '[TREND-AUTO] state file corrupt: env defaults in force');
  else log.info({ path: file.path, source: loaded.source, params: state.params }, '[TREND-AUTO] loaded');
  const avgEntry = new Map<string, { qty: number; cost: number }>();

  return {
    params: () => state.params,
    /** A fill of the strategies (HMM, trend): entries are averaged, a trend sell is an outcome. */
    noteFill(fill: Fill, strategy: string): void {
      if (strategy !== 'trend' && strategy !== 'hmm') return;
      const key = `${fill.venue}|${fill.symbol}`;
      const e = avgEntry.get(key) ?? { qty: 0, cost: 0 };
      if (fill.side === 'buy') {
        avgEntry.set(key, { qty: e.qty + fill.amount, cost: e.cost + fill.cost });
        return;
      }
      if (!(e.qty > 0)) return;
      const entry = e.cost / e.qty;
      const sold = Math.min(fill.amount, e.qty);
      avgEntry.set(key, { qty: e.qty - sold, cost: e.cost - entry * sold });
      if (strategy !== 'trend') return;
      const r = recordOutcome(
        state,
        { pnlPct: (fill.price / entry - 1) * 100, at: fill.at },
        { enabled: deps.enabled },
      );
      state = r.state;
      if (deps.enabled) {
        try {
          file.save(state);
        } catch (err) {
          log.warn({ err: errorMessage(err) }, '[TREND-AUTO] could not save state');
        }
      }
      if (r.change) {
        log.info({ from: r.change.from, to: r.change.to }, formatAutoTuneLine(r.change));
        deps.onChange();
      }
    },
    /** Back to env defaults (deletes the state file). */
    reset(actor: string): { reset: boolean } {
      const removed = file.remove();
      state = file.load().state;
      log.info({ actor, params: state.params }, '[TREND-AUTO] reset to env defaults');
      deps.onChange();
      return { reset: removed };
    },
  };
}
