import { type AnyActorRef, fromPromise } from 'xstate';
import { AppError, errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import { type ExecutorContext, executorMachine, type RebalanceResult } from '../machines/executor.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import { type AllocationInput, intentFor, symbolBudgetUsdt } from '../strategies/allocator.js';
import type { ExecutorPort, ExecutorView } from '../supervisor/executor-port.js';
import type { ChildSpec } from '../supervisor/policy.js';

/**
 * The executor's effects (EXECUTOR_ENABLED, EXEC_INTERVAL_SEC, DRY_RUN): one rebalance moves each live symbol's
 * strategy position toward its capital-allocation budget (`ops/capital_allocations.json`) with orders submitted
 * through the engine, so every rail applies. DRY_RUN logs and counts the orders without sending them
 * (`executor_orders_total{mode}`; live counts orders that passed the rails). A rebalance fails (and is retried,
 * bounded by the machine) when an order's outcome is unknown, an earlier executor order is still unresolved (rail
 * `in_flight`) or the venue refused for a retryable reason; any other rail rejection is an answer, not a failure.
 */
export const EXECUTOR_MAX_ATTEMPTS = 3;
export const EXECUTOR_BACKOFF_MS = 2_000;

export interface RebalanceOrder {
  venue: string;
  symbol: string;
  side: 'buy' | 'sell';
  quote: number;
  reason: string;
}

export interface ExecutorDeps {
  enabled: boolean;
  dryRun: boolean;
  intervalMs: number;
  maxAttempts?: number;
  backoffMs?: number;
  venues: readonly string[];
  liveSymbols: (venue: string) => readonly string[];
  allocations: () => AllocationInput;
  equityUsd: () => number;
  /** Strategy position in USD and the price it was valued at (null: no price yet, the symbol is skipped). */
  position: (venue: string, symbol: string) => { usd: number; price: number } | null;
  maxNotionalUsdt: (symbol: string) => number;
  minTradeUsdt: number;
  submit: (o: RebalanceOrder) => Promise<{ status: string; reason?: string | undefined }>;
  lookup: (systemId: string) => AnyActorRef | undefined;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
  /** Where the operator's stop is kept (LMDB kv): a stopped executor stays stopped across restarts. */
  kv?: { get(key: string): unknown; put(key: string, value: unknown): Promise<unknown> } | undefined;
}

const STOPPED_KEY = 'executor:stopped';

/** The orders one rebalance would send (pure given its inputs). */
export function planRebalance(deps: Omit<ExecutorDeps, 'submit' | 'lookup' | 'metrics' | 'log'>): RebalanceOrder[] {
  const out: RebalanceOrder[] = [];
  const a = deps.allocations();
  const equity = deps.equityUsd();
  for (const venue of deps.venues) {
    const symbols = deps.liveSymbols(venue);
    for (const symbol of symbols) {
      const p = deps.position(venue, symbol);
      if (!p) continue;
      const target = symbolBudgetUsdt(a, equity, venue, deps.venues, symbol, symbols);
      const d = intentFor(p.usd, target, {
        minTradeUsdt: deps.minTradeUsdt,
        maxNotionalUsdt: deps.maxNotionalUsdt(symbol),
      });
      if (d) out.push({ venue, symbol, side: d.side, quote: d.quoteUsdt, reason: `executor: ${d.reason}` });
    }
  }
  return out;
}

export function createExecutor(deps: ExecutorDeps) {
  const log = deps.log.child({ actor: actorId.executor() });
  const mode = deps.dryRun ? 'dry_run' : 'live';
  // Fail closed: the operator's stop is durable, and checked again by the effect itself, so neither a restart
  // of the actor (its input is the boot-time spec) nor of the process resumes rebalancing on its own.
  let parked = deps.kv?.get(STOPPED_KEY) === true;
  const rebalance = fromPromise<RebalanceResult, { attempt: number }>(async ({ input }) => {
    if (parked) return { orders: 0 };
    const orders = planRebalance(deps);
    let sent = 0;
    const failures: string[] = [];
    for (const o of orders) {
      if (deps.dryRun) {
        deps.metrics.executorOrders.inc({ mode });
        log.info({ ...o, mode, attempt: input.attempt }, 'executor: rebalance order (DRY_RUN, not sent)');
        sent += 1;
        continue;
      }
      try {
        const r = await deps.submit(o);
        if (r.status === 'rejected' && r.reason !== 'venue_rejected') {
          // Refused by the rails. The executor's own earlier order still holds its slot (outcome unknown, being resolved): this
          // rebalance did not happen. Counted as a failure so health says so (retries stay bounded by the machine);
          // answering OK here reported every rebalance as done while an unknown order blocked them all.
          if (r.reason === 'in_flight')
            failures.push(`${o.venue}:${o.symbol} in_flight (an earlier order is unresolved)`);
          log.warn({ ...o, mode, why: r.reason, attempt: input.attempt }, 'executor: order refused');
          continue;
        }
        // Counted once it passed the rails (a refusal is logged and counted in breaker_rejections_total{reason}).
        deps.metrics.executorOrders.inc({ mode });
        sent += 1;
        if (r.status === 'unknown') failures.push(`${o.venue}:${o.symbol} unknown`);
        log.info({ ...o, mode, status: r.status, why: r.reason, attempt: input.attempt }, 'executor: rebalance order');
      } catch (e) {
        if (e instanceof AppError && !e.retryable) {
          log.warn({ ...o, err: errorMessage(e) }, 'executor: order refused');
          continue;
        }
        failures.push(`${o.venue}:${o.symbol} ${errorMessage(e)}`);
      }
    }
    if (failures.length > 0) throw new Error(failures.join('; ').slice(0, 180));
    return { orders: sent };
  });
  const logic = executorMachine.provide({ actors: { rebalance } });

  const ref = () => {
    const r = deps.lookup(actorId.executor());
    return r && r.getSnapshot().status === 'active' ? r : undefined;
  };
  const view = (): ExecutorView => {
    const r = ref();
    if (!r)
      return {
        enabled: deps.enabled,
        running: false,
        stopped: !deps.enabled,
        dryRun: deps.dryRun,
        health: 'HALTED',
        reason: deps.enabled ? 'executor not running' : 'disabled',
        rebalances: 0,
        failures: 0,
        attempt: 0,
        lastError: null,
      };
    const c = r.getSnapshot().context as ExecutorContext;
    const stopped = c.stopped || parked;
    return {
      enabled: deps.enabled,
      running: !stopped,
      stopped,
      dryRun: deps.dryRun,
      health: c.health.value,
      reason: c.health.reason,
      rebalances: c.rebalances,
      failures: c.failures,
      attempt: c.attempt,
      lastError: c.lastError,
    };
  };
  const command = async (type: 'exec.stop' | 'exec.start', actor: string): Promise<ExecutorView> => {
    if (!deps.enabled) throw new AppError('CONFLICT', 'the executor is disabled (EXECUTOR_ENABLED=false)');
    const r = ref();
    if (!r && type === 'exec.start')
      throw new AppError('ACTOR_UNAVAILABLE', 'the executor is not running (restarting?)');
    parked = type === 'exec.stop';
    await deps.kv?.put(STOPPED_KEY, parked);
    r?.send({ type });
    log.info({ actor }, type === 'exec.stop' ? 'executor stopped by operator' : 'executor started by operator');
    return view();
  };
  const port: ExecutorPort = {
    view,
    stop: (actor) => command('exec.stop', actor),
    start: (actor) => command('exec.start', actor),
  };

  return {
    port,
    /** The `executor` leaf under root (non-critical); absent when disabled. */
    subtree: () =>
      deps.enabled
        ? {
            spec: {
              id: actorId.executor(),
              src: 'executor',
              critical: false,
              shutdownMs: 1_000,
              input: {
                intervalMs: deps.intervalMs,
                maxAttempts: deps.maxAttempts ?? EXECUTOR_MAX_ATTEMPTS,
                backoffMs: deps.backoffMs ?? EXECUTOR_BACKOFF_MS,
                stopped: parked,
              },
            } as ChildSpec,
            logics: { executor: logic },
          }
        : undefined,
  };
}

export type Executor = ReturnType<typeof createExecutor>;
