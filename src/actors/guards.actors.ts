import { type AnyActorRef, fromCallback } from 'xstate';
import type { Config } from '../config/load-config.js';
import { AppError, errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import {
  DEPEG_BLIND,
  type DepegGuardContext,
  depegAlertText,
  depegGuardMachine,
  depegGuardView,
  depegRearmCheck,
} from '../machines/depeg-guard.machine.js';
import {
  type FundingGuardContext,
  type FundingPlan,
  type FundingRateObs,
  fundingGuardMachine,
  fundingGuardView,
} from '../machines/funding-guard.machine.js';
import type { Health } from '../machines/health.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KvStore } from '../store/index.js';
import type { GuardsPort, GuardView } from '../supervisor/guards-port.js';
import type { ChildSpec } from '../supervisor/policy.js';
import { createSupervisor, type SupervisorHooks } from '../supervisor/supervisor.js';
import type { VenueGateway } from '../venues/venue-gateway.js';
import { createGuardStates } from './guard-state.js';
import { everyInterval } from './periodic.js';
import type { QuoteBoard } from './quote-board.js';

/**
 * The money guards under `guards:<venue>` (DESIGN §3, §8): the depeg guard (on Binance, whose USDTUSDC and
 * BTCUSDT/BTCUSDC books it watches; its state applies to USDT-quoted symbols on every venue) and the funding
 * guard (on every venue with perpetuals). Each is a `flavour: 'guard'` child: its context is persisted in LMDB
 * on every change and read again whenever it is spawned, the supervisor restarts it from its last snapshot, and a
 * repeat crash starts it HALTED (`failClosed`). A guard that is not running counts as active: the rails refuse
 * what it would refuse. Other guards (the stop validator) join through `extraChildren` and `register`.
 */
export type GuardsConfig = Pick<
  Config,
  | 'DEPEG_GUARD_ENABLED'
  | 'DEPEG_THRESHOLD_PCT'
  | 'DEPEG_CONFIRM_SEC'
  | 'DEPEG_COOLDOWN_SEC'
  | 'DEPEG_EXIT_RISK'
  | 'FUNDING_GUARD_ENABLED'
  | 'FUNDING_SPIKE_THRESHOLD_PCT'
  | 'FUNDING_TRIM_PCT'
  | 'FUNDING_HEDGE_RATIO'
  | 'FUNDING_POLL_SEC'
  | 'FEED_POLL_MS'
>;

/** The venue whose guards supervisor holds the depeg guard (its readings come from every venue's feed). */
export const DEPEG_VENUE = 'binance';
/**
 * The parity books, in Bosun's names. Venues name the stablecoin pair either way round: Binance lists USDT/USDC,
 * Kraken USDC/USDT (and no USDT/USDC), so USDT in USDC is read from whichever the venue lists.
 */
export const DEPEG_SYMBOLS = {
  usdtUsdc: 'USDTUSDC',
  usdcUsdt: 'USDCUSDT',
  btcUsdt: 'BTCUSDT',
  btcUsdc: 'BTCUSDC',
} as const;
/**
 * A parity quote older than this is no reading (fail closed: blind). The feeds deliver every FEED_POLL_MS (Kraken
 * every 2 s) and a stream pushes at least once a second per venue: 30 s is several missed deliveries, not jitter.
 */
export const PARITY_MAX_AGE_MS = 30_000;

export interface GuardsDeps {
  config: GuardsConfig;
  kv: KvStore;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  /** The venue's gateway as orders see it (the venue link's once linked). */
  gateway: (venue: string) => VenueGateway | undefined;
  /** The configured venues, whose feeds carry the parity books where they list them. */
  venues: readonly string[];
  /** The shared feed's latest quotes: the depeg guard reads parity here instead of polling tickers. */
  quotes: QuoteBoard;
  lookup: (id: string) => AnyActorRef | undefined;
  /** Reduces the strategies' USDT-quoted exposure on every venue (DEPEG_EXIT_RISK); returns orders sent. */
  reduceUsdtExposure: (reason: string) => Promise<number>;
  /** Sends one funding plan through the engine; says what went out. */
  executeFunding: (venue: string, plan: FundingPlan) => Promise<{ trimmed: boolean; hedged: boolean }>;
  /** The funding hedge's end rule, on every funding poll (funding-hedge.ts): ended hedges are unwound. */
  reviewFundingHedges?: (venue: string, spiking: readonly string[]) => Promise<void>;
  /** Telegram-ready alert lines (the notifier, when there is one; logged regardless). */
  alert?: (text: string) => void;
  /** Test seam: called before a guard's state is published; a throw crashes the guard (as a bug would). */
  beforePublish?: (id: string, context: unknown) => void;
}

/** A guard registered for `GET /guards` (the stop validator registers itself the same way). */
export interface GuardRegistration {
  id: string;
  kind: string;
  venue: string;
  /** From the running actor's context: is it restricting trading, and its JSON view. */
  view: (context: unknown) => { active: boolean; reason: string; state: Record<string, unknown> };
}

/** One venue's parity as its feed shows it, or why it shows none. */
export interface ParityReading {
  venue: string;
  usdtUsdc: number | null;
  btcRatio: number | null;
  /** Set when neither figure could be read. */
  missing?: string;
}

/** The parity figures a venue's fresh quotes give (USDT/USDC direct or inverted, BTCUSDT/BTCUSDC). */
export function readParity(
  quotes: QuoteBoard,
  venue: string,
  listed: (symbol: string) => boolean,
  now: number,
): ParityReading {
  const mid = (s: string) => quotes.mid(venue, s, now, PARITY_MAX_AGE_MS);
  const direct = mid(DEPEG_SYMBOLS.usdtUsdc);
  const inverse = mid(DEPEG_SYMBOLS.usdcUsdt);
  const usdtUsdc = direct ?? (inverse !== null ? 1 / inverse : null);
  const a = mid(DEPEG_SYMBOLS.btcUsdt);
  const b = mid(DEPEG_SYMBOLS.btcUsdc);
  const btcRatio = a !== null && b !== null ? a / b : null;
  if (usdtUsdc !== null || btcRatio !== null) return { venue, usdtUsdc, btcRatio };
  const pairListed = listed(DEPEG_SYMBOLS.usdtUsdc) || listed(DEPEG_SYMBOLS.usdcUsdt);
  const btcListed = listed(DEPEG_SYMBOLS.btcUsdt) && listed(DEPEG_SYMBOLS.btcUsdc);
  const missing =
    !pairListed && !btcListed
      ? 'lists neither USDT/USDC nor BTCUSDT with BTCUSDC'
      : `no fresh quote of ${[pairListed ? 'USDT/USDC' : '', btcListed ? 'BTCUSDT/BTCUSDC' : ''].filter(Boolean).join(' or ')} from its feed`;
  return { venue, usdtUsdc: null, btcRatio: null, missing };
}

/**
 * Every venue's reading folded into one observation: per figure the one furthest from parity (fail closed: a
 * depeg seen on one venue is not hidden by calm on another). Blind only when no venue gives either figure; the
 * reason then says what each venue lacks.
 */
export function combineParity(readings: readonly ParityReading[]): {
  usdtUsdc: number | null;
  btcRatio: number | null;
  blind?: string;
} {
  const worst = (xs: Array<number | null>) =>
    xs.reduce<number | null>(
      (w, x) => (x === null ? w : w === null || Math.abs(x - 1) > Math.abs(w - 1) ? x : w),
      null,
    );
  const usdtUsdc = worst(readings.map((r) => r.usdtUsdc));
  const btcRatio = worst(readings.map((r) => r.btcRatio));
  if (usdtUsdc !== null || btcRatio !== null) return { usdtUsdc, btcRatio };
  const why = readings.map((r) => `${r.venue}: ${r.missing ?? 'no reading'}`).join('; ');
  return { usdtUsdc, btcRatio, blind: `${DEPEG_BLIND} (${why || 'no venue'})` };
}

export function createGuards(deps: GuardsDeps) {
  const { config, kv, metrics, now } = deps;
  const log = deps.log.child({ actor: 'guards' });
  const registry = new Map<string, GuardRegistration>();
  const depegId = actorId.guard('depeg', DEPEG_VENUE);

  const running = (id: string): AnyActorRef | undefined => {
    const ref = deps.lookup(id);
    return ref && ref.getSnapshot().status === 'active' ? ref : undefined;
  };
  // Each guard's last state, handed back at every spawn (guard-state.ts): a restart keeps a trip.
  const states = createGuardStates({ kv, prefix: 'guard:', log });

  // ── depeg ──
  let reducing = false;
  async function exitRisk(): Promise<void> {
    if (!config.DEPEG_EXIT_RISK || reducing) return;
    reducing = true;
    try {
      const n = await deps.reduceUsdtExposure('depeg_exit');
      if (n > 0) log.warn({ orders: n }, 'depeg: reducing USDT exposure (DEPEG_EXIT_RISK=true)');
    } catch (e) {
      log.warn({ err: errorMessage(e) }, 'depeg exit-risk pass failed');
    } finally {
      reducing = false;
    }
  }

  function depegLogic() {
    // No request of its own: the readings are the feeds' quotes (the feeds carry the parity books, watchSymbols).
    const poller = fromCallback(({ sendBack }) =>
      everyInterval(
        Math.max(100, config.FEED_POLL_MS),
        async (alive) => {
          const at = now();
          const readings = deps.venues.map((v) =>
            readParity(deps.quotes, v, (s) => deps.gateway(v)?.markets('spot')[s] !== undefined, at),
          );
          if (!alive()) return;
          sendBack({ type: 'depeg.observe', ...combineParity(readings), at });
          const ref = running(depegId);
          if (ref && depegGuardView(ref.getSnapshot().context).active) void exitRisk();
        },
        (message) => log.warn({ err: message }, 'depeg observation failed'),
      ),
    );
    return depegGuardMachine.provide({
      actors: { poller },
      actions: {
        'depeg.publish': ({ context }) => {
          deps.beforePublish?.(depegId, context);
          const v = depegGuardView(context);
          metrics.riskDepegActive.set(v.active ? 1 : 0);
          states.publish(depegId, context);
        },
        'depeg.tripped': ({ context }) => {
          const text = depegAlertText({
            ...depegGuardView(context),
            venue: DEPEG_VENUE,
            exitRisk: config.DEPEG_EXIT_RISK,
          });
          log.error(
            { deviationPct: context.deviationPct, alert: text },
            'depeg guard tripped: new USDT entries refused',
          );
          deps.alert?.(text);
        },
        'depeg.rearmed': ({ context }, p) => {
          log.warn({ by: p.by, deviationPct: context.deviationPct }, 'depeg guard re-armed');
          deps.alert?.(`🟢 OK ${depegId} re-armed by ${p.by}`);
        },
      },
    });
  }

  // ── funding ──
  function fundingLogic(venue: string) {
    const id = actorId.guard('funding', venue);
    const poller = fromCallback(({ sendBack }) =>
      everyInterval(
        config.FUNDING_POLL_SEC * 1000,
        async (alive) => {
          const gw = deps.gateway(venue);
          if (!gw) return;
          const [raw, positions] = await Promise.all([gw.fetchFundingRates(), gw.fetchPositions()]);
          // A spot-only key: the venue refused its USDⓈ-M account (-2015). Spot trades on; this guard cannot
          // see positions and says why (DEGRADED, perpetual entries refused as while blind).
          const off = gw.unavailable?.('linear');
          if (off !== undefined) throw new Error(off);
          if (!alive()) return;
          const rates: Record<string, FundingRateObs> = {};
          for (const [s, r] of Object.entries(raw))
            rates[s] = { ratePct: r.rate * 100, nextFundingTime: r.nextFundingTime };
          sendBack({
            type: 'funding.observe',
            rates,
            positions: positions.map((p) => ({
              symbol: p.symbol,
              side: p.side,
              amount: p.amount,
              markPrice: p.markPrice,
            })),
            at: now(),
          });
        },
        (message) => {
          log.warn({ venue, err: message }, 'funding poll failed');
          sendBack({ type: 'funding.failed', error: String(message), at: now() });
        },
      ),
    );
    return fundingGuardMachine.provide({
      actors: { poller },
      actions: {
        'funding.publish': ({ context }) => {
          deps.beforePublish?.(id, context);
          const v = fundingGuardView(context);
          for (const [s, r] of Object.entries(v.rates)) metrics.fundingRatePct.set({ symbol: s }, r);
          metrics.fundingSpikeActive.set(v.spikeActive ? 1 : 0);
          states.publish(id, context);
          if (!v.failClosed)
            void deps
              .reviewFundingHedges?.(venue, v.spiking)
              .catch((e: unknown) => log.error({ venue, err: errorMessage(e) }, 'funding hedge review failed'));
        },
        'funding.act': (_, p) => {
          for (const plan of p.plans) {
            log.warn({ venue, plan }, `funding spike ${plan.symbol} ${plan.ratePct.toFixed(4)}%: trimming`);
            void deps
              .executeFunding(venue, plan)
              .then((r) => {
                if (r.trimmed) metrics.fundingTrims.inc();
                if (r.hedged) metrics.fundingHedges.inc();
                deps.lookup(id)?.send({ type: 'funding.result', symbol: plan.symbol, ...r });
              })
              .catch((e: unknown) =>
                log.error({ venue, symbol: plan.symbol, err: errorMessage(e) }, 'funding trim failed'),
              );
          }
        },
      },
    });
  }

  register({
    id: depegId,
    kind: 'depeg',
    venue: DEPEG_VENUE,
    view: (c) => {
      const v = depegGuardView(c);
      return { active: v.active, reason: v.reason, state: v as unknown as Record<string, unknown> };
    },
  });

  function register(r: GuardRegistration): void {
    registry.set(r.id, r);
  }

  const enabled = {
    depeg: (venue: string) => config.DEPEG_GUARD_ENABLED && venue === DEPEG_VENUE,
    funding: (venue: string) => {
      if (!config.FUNDING_GUARD_ENABLED) return false;
      return deps.gateway(venue)?.marketKinds.includes('linear') ?? false;
    },
  };
  const built = new Set<string>();
  type ChildProvider = (
    venue: string,
    hooks: SupervisorHooks,
  ) => Array<{ spec: ChildSpec; logics: Record<string, unknown> }>;
  const providers: ChildProvider[] = [];

  /**
   * Adds guards to every `guards:<venue>` built from now on (call before the runtime starts): the stop validator
   * joins this way, and `register`s a view for `GET /guards`. Its children should be `flavour: 'guard'`.
   */
  function extend(provider: ChildProvider): void {
    providers.push(provider);
  }

  /**
   * `guards:<venue>` (one_for_one): this venue's guards plus `extraChildren` (e.g. the stop validator). Null when
   * the venue has no guard at all.
   */
  function buildGuardsSubtree(
    venue: string,
    hooks: SupervisorHooks,
    extraChildren: Array<{ spec: ChildSpec; logics: Record<string, unknown> }> = [],
  ): { spec: ChildSpec; logics: Record<string, unknown> } | null {
    const children: ChildSpec[] = [];
    const logics: Record<string, unknown> = {};
    if (enabled.depeg(venue)) {
      children.push({
        id: depegId,
        src: 'depeg',
        flavour: 'guard',
        shutdownMs: 0,
        input: states.spawnInput(depegId, {
          venue,
          thresholdPct: config.DEPEG_THRESHOLD_PCT,
          confirmMs: config.DEPEG_CONFIRM_SEC * 1000,
          cooldownMs: config.DEPEG_COOLDOWN_SEC * 1000,
          startedAt: deps.now(),
        }),
      });
      logics.depeg = depegLogic();
      built.add(depegId);
    }
    if (enabled.funding(venue)) {
      const id = actorId.guard('funding', venue);
      register({
        id,
        kind: 'funding',
        venue,
        view: (c) => {
          const v = fundingGuardView(c);
          return {
            active: v.spikeActive || v.failClosed,
            reason: v.reason,
            state: v as unknown as Record<string, unknown>,
          };
        },
      });
      children.push({
        id,
        src: 'funding',
        flavour: 'guard',
        shutdownMs: 0,
        input: states.spawnInput(id, {
          venue,
          thresholdPct: config.FUNDING_SPIKE_THRESHOLD_PCT,
          trimPct: config.FUNDING_TRIM_PCT,
          hedgeRatio: config.FUNDING_HEDGE_RATIO,
        }),
      });
      logics.funding = fundingLogic(venue);
      built.add(id);
    }
    for (const e of [...extraChildren, ...providers.flatMap((p) => p(venue, hooks))]) {
      children.push(e.spec);
      Object.assign(logics, e.logics);
      built.add(e.spec.id);
    }
    if (children.length === 0) return null;
    const sup = createSupervisor({
      strategy: 'one_for_one',
      intensity: 5,
      periodMs: 60_000,
      backoff: { minMs: 100, maxMs: 8_000, factor: 2, jitter: 0.2, resetAfterMs: 30_000, immediateFirst: true },
      now,
      hooks,
      logics: logics as never,
      children,
    });
    return {
      spec: { id: actorId.guards(venue), src: `guards:${venue}`, critical: false, shutdownMs: 1_000 },
      logics: { [`guards:${venue}`]: sup },
    };
  }

  function viewOf(r: GuardRegistration): GuardView {
    const ref = running(r.id);
    if (!ref)
      return {
        id: r.id,
        kind: r.kind,
        venue: r.venue,
        running: false,
        active: true,
        health: 'HALTED',
        reason: 'guard_unavailable',
        state: {},
      };
    const ctx = ref.getSnapshot().context as { health?: { value: Health; reason: string } };
    const v = r.view(ctx);
    return {
      id: r.id,
      kind: r.kind,
      venue: r.venue,
      running: true,
      active: v.active,
      health: ctx.health?.value ?? 'HALTED',
      reason: v.reason,
      state: v.state,
    };
  }

  /** The rails' `guards` input. Fail closed: an enabled guard that is not running counts as active. */
  function railInput(venue: string, symbol: string, market: 'spot' | 'linear' = 'spot') {
    let depegActive = false;
    if (built.has(depegId)) {
      const ref = running(depegId);
      depegActive = ref ? depegGuardView(ref.getSnapshot().context).active : true;
    }
    let fundingSpike = false;
    const fid = actorId.guard('funding', venue);
    if (market === 'linear' && built.has(fid)) {
      const ref = running(fid);
      if (!ref) fundingSpike = true;
      else {
        const v = fundingGuardView(ref.getSnapshot().context as FundingGuardContext);
        fundingSpike = v.failClosed || v.spiking.includes(symbol);
      }
    }
    return { depegActive, fundingSpike };
  }

  const port: GuardsPort = {
    list: () => [...registry.values()].filter((r) => built.has(r.id)).map(viewOf),
    async rearmDepeg(actor) {
      const r = registry.get(depegId);
      if (!r || !built.has(depegId))
        throw new AppError('NOT_FOUND', 'no depeg guard (DEPEG_GUARD_ENABLED=false or no binance venue)');
      const ref = running(depegId);
      if (!ref) throw new AppError('ACTOR_UNAVAILABLE', `${depegId} is not running`);
      const before = viewOf(r);
      const check = depegRearmCheck(ref.getSnapshot().context as DepegGuardContext, now());
      if (!check.ok) throw new AppError('CONFLICT', check.message, { details: { reason: check.code, guard: before } });
      ref.send({ type: 'depeg.rearm', at: now(), by: actor });
      const after = viewOf(r);
      return { before, after };
    },
  };

  return { buildGuardsSubtree, extend, register, railInput, port, depegId };
}

export type Guards = ReturnType<typeof createGuards>;
