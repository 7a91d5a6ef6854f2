import { type StrategyWeights, StrategyWeightsFileSchema } from '../config/files.schema.js';
import { AppError } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import { stopValidatorView } from '../machines/stop-validator.machine.js';
import type { OrdersStore } from '../store/index.js';
import type { OrderView, TradingPort } from '../supervisor/trading-port.js';
import { writeFileAtomic } from './atomic-file.js';
import type { BreakerEffects } from './breaker-effects.js';
import type { OpsConfig } from './config.actors.js';
import type { PortfolioSnapshots } from './portfolio-snapshots.js';
import type { StopValidator } from './stop-validator.actors.js';
import { type TradingEngine, toOrderView } from './trading-engine.js';

/**
 * The `TradingPort` the HTTP layer uses (DESIGN §9): orders, the portfolio, reconciliation, weights, breakers,
 * the stop validator's view and the auto-tune reset, each delegated to the part that owns it.
 */
export interface TradingPortDeps {
  engine: TradingEngine;
  orders: OrdersStore;
  portfolio: PortfolioSnapshots;
  breakers: BreakerEffects;
  stopValidators: ReadonlyMap<string, StopValidator>;
  ops: OpsConfig;
  weights: () => StrategyWeights;
  weightsPath: string;
  resetAutoTune: (actor: string) => { reset: boolean };
  log: Logger;
}

const TERMINAL_VIEWS = new Set(['filled', 'cancelled', 'rejected']);

/** The stop validators' stops as order views (`kind: 'stop'`): they live in the validator's book, not `orders`. */
function stopViews(validators: ReadonlyMap<string, StopValidator>): OrderView[] {
  const out: OrderView[] = [];
  for (const sv of validators.values()) {
    const view = sv.view();
    for (const p of view.positions) {
      const s = p.stop;
      if (!s) continue;
      out.push({
        kind: 'stop',
        stopPrice: s.stopPrice,
        clientOrderId: s.clientOrderId,
        venue: view.venue,
        symbol: p.symbol,
        side: s.side,
        strategy: 'stop',
        status: s.status,
        amount: s.qty,
        filled: 0,
        averagePrice: null,
        quote: s.qty * s.stopPrice,
        venueOrderId: s.venueOrderId,
        reason: 'protective stop',
        createdAt: s.sentAt,
        updatedAt: s.sentAt,
      });
    }
  }
  return out;
}

export function createTradingPort(d: TradingPortDeps): TradingPort {
  const port: TradingPort = {
    submitOrder: (req) => d.engine.submitOperator(req),
    listOrders(q) {
      const out: OrderView[] = [];
      const keep = (v: OrderView) =>
        (!q.venue || v.venue === q.venue) &&
        (!q.symbol || v.symbol === q.symbol) &&
        !(q.open && TERMINAL_VIEWS.has(v.status));
      for (const r of d.orders.list()) {
        const v = { kind: 'order' as const, ...toOrderView(r) };
        if (keep(v)) out.push(v);
      }
      for (const v of stopViews(d.stopValidators)) if (keep(v)) out.push(v);
      out.sort((a, b) => b.createdAt - a.createdAt || b.clientOrderId.localeCompare(a.clientOrderId));
      return out.slice(0, q.limit);
    },
    portfolio: () => ({
      ...d.portfolio.doc(),
      file: { path: d.portfolio.path, lastWrittenAt: d.portfolio.lastWrittenAt() },
    }),
    async reconcile(actor) {
      if (!d.engine.accepting()) throw new AppError('NOT_READY', 'boot recovery has not finished');
      const r = await d.engine.reconcileAll();
      d.log.info({ actor, fillsApplied: r.fillsApplied }, 'manual reconciliation');
      return r;
    },
    weights: () => {
      const w = d.weights();
      return { weights: { ...w.weights }, raw: { ...w.raw } as Record<string, number> };
    },
    async setWeights(input, actor) {
      const parsed = StrategyWeightsFileSchema.safeParse({ weights: input });
      if (!parsed.success)
        throw new AppError('VALIDATION_FAILED', parsed.error.issues.map((i) => i.message).join('; '));
      writeFileAtomic(d.weightsPath, `${JSON.stringify({ weights: input }, null, 2)}\n`);
      d.ops.set('strategy_weights', parsed.data);
      d.log.info({ actor, weights: parsed.data.weights }, 'strategy weights updated');
      return port.weights();
    },
    breakers: () => d.breakers.views(),
    resetBreaker: (id, actor) => d.breakers.reset(id, actor),
    stops() {
      return [...d.stopValidators.values()].map((sv) => {
        const ref = d.breakers.running(sv.id);
        const c = ref ? stopValidatorView(ref.getSnapshot().context) : undefined;
        return {
          ...sv.view(),
          health: c?.health ?? { value: 'HALTED', reason: 'actor_unavailable' },
          passes: c?.passes ?? 0,
          lastPassAt: c?.lastPassAt ?? null,
          missingTotal: c?.missingTotal ?? 0,
          placedTotal: c?.placedTotal ?? 0,
        };
      });
    },
    maker: () => ({ ...d.engine.maker() }),
    async resetAutoTune(actor) {
      return d.resetAutoTune(actor);
    },
  };
  return port;
}
