import type { AnyActorRef } from 'xstate';
import type { RiskLimits } from '../config/risk-limits.js';
import { AppError } from '../domain/errors.js';
import { actorId, type VenueId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import { equityBreakerMachine, equityBreakerView } from '../machines/equity-breaker.machine.js';
import { venueBreakerMachine, venueBreakerView } from '../machines/venue-breaker.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KvStore } from '../store/index.js';
import type { ChildSpec } from '../supervisor/policy.js';
import { createSupervisor, type SupervisorHooks } from '../supervisor/supervisor.js';
import type { BreakerView } from '../supervisor/trading-port.js';
import { createGuardStates } from './guard-state.js';

/**
 * The breakers' effects (DESIGN §8): the venue error-rate breaker under each venue and the equity breaker under
 * `risk`, their state in LMDB (restored at boot), their metrics, what the rails read from them, and the
 * operator's view and reset. Fail closed: a breaker that is not running counts as tripped.
 */
export interface BreakerEffectsDeps {
  kv: KvStore;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  venues: readonly VenueId[];
  lookup: (id: string) => AnyActorRef | undefined;
  limits: () => RiskLimits;
  venueErrorBreakerPct: number;
  venueErrorWindow: number;
}

export function createBreakerEffects(deps: BreakerEffectsDeps) {
  const { metrics, now } = deps;
  const states = createGuardStates({ kv: deps.kv, prefix: 'breaker:', log: deps.log });
  const running = (id: string): AnyActorRef | undefined => {
    const ref = deps.lookup(id);
    return ref && ref.getSnapshot().status === 'active' ? ref : undefined;
  };
  const equityView = () => {
    const ref = running(actorId.equityBreaker());
    return ref ? equityBreakerView(ref.getSnapshot().context) : undefined;
  };
  const venueView = (venue: string) => {
    const ref = running(actorId.venueBreaker(venue));
    return ref ? venueBreakerView(ref.getSnapshot().context) : undefined;
  };

  function views(): BreakerView[] {
    const ev = equityView();
    const out: BreakerView[] = [
      {
        id: actorId.equityBreaker(),
        tripped: ev?.tripped ?? true,
        reason: ev?.reason ?? 'breaker_unavailable',
        since: ev?.since ?? null,
      },
    ];
    for (const v of deps.venues) {
      const vv = venueView(v);
      out.push({
        id: actorId.venueBreaker(v),
        tripped: vv?.tripped ?? true,
        reason: vv?.reason ?? 'breaker_unavailable',
        since: vv?.since ?? null,
      });
    }
    return out;
  }

  return {
    /** Any running actor by id (the stop validators' views use it too). */
    running,
    equity(): { tripped: boolean; reason: string } {
      const v = equityView();
      return v ? { tripped: v.tripped, reason: v.reason } : { tripped: true, reason: 'breaker_unavailable' };
    },
    venue(venue: string): { tripped: boolean; reason: string } {
      const v = venueView(venue);
      return v ? { tripped: v.tripped, reason: v.reason } : { tripped: true, reason: 'breaker_unavailable' };
    },
    /** The equity breaker's drawdown (0 when it is not running: auto-cutback then sees `tripped`). */
    drawdownPct: () => equityView()?.drawdownPct ?? 0,
    views,
    async reset(id: string, actor: string): Promise<BreakerView> {
      const known = [actorId.equityBreaker(), ...deps.venues.map((v) => actorId.venueBreaker(v))];
      if (!known.includes(id)) throw new AppError('NOT_FOUND', `no breaker '${id}' (known: ${known.join(', ')})`);
      const ref = running(id);
      if (!ref) throw new AppError('ACTOR_UNAVAILABLE', `breaker '${id}' is not running`);
      ref.send({ type: 'breaker.reset', at: now(), by: actor });
      const view = views().find((b) => b.id === id);
      if (!view) throw new AppError('NOT_FOUND', `no breaker '${id}'`);
      return view;
    },
    /** The venue error-rate breaker's child under `venue:<venue>`. */
    venueChild(venue: string): { spec: ChildSpec; logics: Record<string, unknown> } {
      const breakerId = actorId.venueBreaker(venue);
      const breaker = venueBreakerMachine.provide({
        actions: {
          'breaker.publish': ({ context }) => {
            metrics.venueErrorRatePct.set({ venue }, venueBreakerView(context).errorPct);
            states.publish(breakerId, context);
          },
        },
      });
      return {
        spec: {
          id: breakerId,
          src: `breaker:${venue}`,
          flavour: 'guard',
          shutdownMs: 0,
          input: states.spawnInput(breakerId, {
            venue,
            tripPct: deps.venueErrorBreakerPct,
            window: deps.venueErrorWindow,
            minSamples: Math.min(10, deps.venueErrorWindow),
          }),
        },
        logics: { [`breaker:${venue}`]: breaker },
      };
    },
    /** `risk`: one_for_all over the equity breaker (floor, drawdown, cooldown). */
    riskSubtree(hooks: SupervisorHooks) {
      const id = actorId.equityBreaker();
      const limits = deps.limits();
      const breaker = equityBreakerMachine.provide({
        actions: {
          'breaker.publish': ({ context }) => {
            const v = equityBreakerView(context);
            metrics.riskEquityBufferUsd.set(v.bufferUsd);
            metrics.riskEquityFloorBreach.set(v.tripped && v.reason === 'equity_floor' ? 1 : 0);
            metrics.riskEquityDrawdownPct.set(v.drawdownPct);
            states.publish(id, context);
          },
        },
      });
      const sup = createSupervisor({
        strategy: 'one_for_all',
        intensity: 3,
        periodMs: 60_000,
        backoff: { minMs: 250, maxMs: 8_000, factor: 2, jitter: 0.2, resetAfterMs: 30_000, immediateFirst: true },
        now,
        hooks,
        logics: { equity: breaker },
        children: [
          {
            id,
            src: 'equity',
            flavour: 'guard',
            shutdownMs: 0,
            input: states.spawnInput(id, {
              floorUsd: limits.equityFloorUsd,
              maxDrawdownPct: limits.maxDrawdownPct,
              cooldownSec: limits.equityCooldownSec,
            }),
          },
        ],
      });
      return { spec: { id: actorId.risk(), src: 'risk', shutdownMs: 1_000 } as ChildSpec, logics: { risk: sup } };
    },
  };
}

export type BreakerEffects = ReturnType<typeof createBreakerEffects>;
