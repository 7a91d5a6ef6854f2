import { enqueueActions, fromCallback, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * guard:funding:<venue> — the funding guard (DESIGN §8, runbook "Funding spike"). Each poll brings the perpetuals'
 * funding rates and the venue's open positions. A rate whose magnitude is above `thresholdPct` is a spike; a
 * position that pays it (long when the rate is positive, short when negative) is trimmed by `trimPct` % with a
 * reduce-only order, once per spike and funding interval (`nextFundingTime`); with `hedgeRatio` > 0 a BTC spot
 * hedge of `hedgeRatio` × the trimmed notional is placed in the trimmed position's direction (spot pays no
 * funding). The machine decides; the actor executes the plan through the engine (`funding.act`).
 */
export interface FundingRateObs {
  /** Rate per funding interval, in %. */
  ratePct: number;
  nextFundingTime: number | null;
}

export interface FundingPositionObs {
  symbol: string;
  side: 'long' | 'short';
  amount: number;
  markPrice: number | null;
}

export interface FundingPlan {
  symbol: string;
  /** The reduce-only trim order. */
  trim: { side: 'buy' | 'sell'; amount: number; notionalUsdt: number };
  /** BTC spot hedge, when hedgeRatio > 0. */
  hedge: { symbol: string; side: 'buy' | 'sell'; quoteUsdt: number } | null;
  ratePct: number;
  key: string;
}

export interface FundingGuardInput {
  venue: string;
  thresholdPct: number;
  trimPct: number;
  hedgeRatio: number;
  hedgeSymbol?: string;
  persisted?: Partial<FundingGuardContext> | undefined;
  failClosed?: string;
}

export interface FundingGuardContext extends HealthContext {
  venue: string;
  thresholdPct: number;
  trimPct: number;
  hedgeRatio: number;
  hedgeSymbol: string;
  /** Latest rate per perpetual (%). */
  rates: Record<string, number>;
  /** Perpetuals whose rate is above the threshold now. */
  spiking: string[];
  /** Per symbol: the spike (funding time) already trimmed, so one spike trims once. */
  handled: Record<string, string>;
  trims: number;
  hedges: number;
  lastPlans: FundingPlan[];
  lastPollAt: number | null;
  since: number | null;
  /** Why the latest poll failed, null after a good one: a guard that cannot read funding is DEGRADED (blind). */
  pollError?: string | null;
}

export type FundingGuardEvent =
  | {
      type: 'funding.observe';
      rates: Record<string, FundingRateObs>;
      positions: FundingPositionObs[];
      at: number;
    }
  | { type: 'funding.result'; symbol: string; trimmed: boolean; hedged: boolean }
  | { type: 'funding.failed'; error: string; at: number }
  | { type: 'limits.update'; thresholdPct?: number; trimPct?: number; hedgeRatio?: number }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const FUNDING_SPIKE = 'funding_spike';
/** Health reason prefix of a funding guard whose polls fail. */
export const FUNDING_BLIND = 'blind: funding poll failing';

/** The trims (and hedges) one observation calls for; pure. */
export function fundingPlans(
  c: Pick<FundingGuardContext, 'thresholdPct' | 'trimPct' | 'hedgeRatio' | 'hedgeSymbol' | 'handled'>,
  rates: Record<string, FundingRateObs>,
  positions: readonly FundingPositionObs[],
): FundingPlan[] {
  const out: FundingPlan[] = [];
  for (const p of positions) {
    const r = rates[p.symbol];
    if (!r || !Number.isFinite(r.ratePct) || Math.abs(r.ratePct) <= c.thresholdPct) continue;
    if (!(p.amount > 0)) continue;
    // Only the side that pays the funding is trimmed.
    const pays = (r.ratePct > 0 && p.side === 'long') || (r.ratePct < 0 && p.side === 'short');
    if (!pays) continue;
    const key = `${p.side}:${r.nextFundingTime ?? 'spike'}`;
    if (c.handled[p.symbol] === key) continue;
    const amount = (p.amount * c.trimPct) / 100;
    if (!(amount > 0)) continue;
    const notionalUsdt = p.markPrice !== null && p.markPrice > 0 ? amount * p.markPrice : 0;
    const side = p.side === 'long' ? 'sell' : 'buy';
    const hedge =
      c.hedgeRatio > 0 && notionalUsdt > 0
        ? {
            symbol: c.hedgeSymbol,
            side: p.side === 'long' ? ('buy' as const) : ('sell' as const),
            quoteUsdt: notionalUsdt * c.hedgeRatio,
          }
        : null;
    out.push({ symbol: p.symbol, trim: { side, amount, notionalUsdt }, hedge, ratePct: r.ratePct, key });
  }
  return out;
}

export function fundingGuardView(ctx: unknown) {
  const c = ctx as FundingGuardContext;
  const failClosed = c.failClosed ? `crash_loop: ${c.failClosed}` : '';
  return {
    spikeActive: c.spiking.length > 0,
    spiking: [...c.spiking],
    failClosed: failClosed !== '',
    reason: c.spiking.length > 0 ? FUNDING_SPIKE : failClosed,
    rates: { ...c.rates },
    thresholdPct: c.thresholdPct,
    trimPct: c.trimPct,
    hedgeRatio: c.hedgeRatio,
    trims: c.trims,
    hedges: c.hedges,
    since: c.since,
    lastPollAt: c.lastPollAt,
    pollError: c.pollError ?? null,
  };
}

export const fundingGuardMachine = setup({
  types: {} as { context: FundingGuardContext; events: FundingGuardEvent; input: FundingGuardInput },
  actors: { poller: fromCallback(() => () => {}) },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    /** Effect slot: metrics and persistence. */
    'funding.publish': () => {},
    /** Effect slot: execute plans through the engine (replies `funding.result`). */
    'funding.act': (_: unknown, _p: { plans: FundingPlan[] }) => {},
    update: enqueueActions(({ context: c, event, enqueue }) => {
      if (event.type === 'limits.update') {
        enqueue.assign({
          thresholdPct: event.thresholdPct ?? c.thresholdPct,
          trimPct: event.trimPct ?? c.trimPct,
          hedgeRatio: event.hedgeRatio ?? c.hedgeRatio,
        });
        return;
      }
      if (event.type === 'funding.result') {
        enqueue.assign({ trims: c.trims + (event.trimmed ? 1 : 0), hedges: c.hedges + (event.hedged ? 1 : 0) });
        enqueue('funding.publish');
        return;
      }
      const wasBlind = c.pollError !== undefined && c.pollError !== null;
      if (event.type === 'funding.failed') {
        enqueue.assign({ pollError: event.error.slice(0, 200) });
        // A spike (or a crash loop) already says more; otherwise the guard says it cannot see.
        if (!wasBlind && c.spiking.length === 0 && !c.failClosed)
          enqueue.raise({ type: 'health.degrade', reason: `${FUNDING_BLIND}: ${event.error.slice(0, 160)}` });
        enqueue('funding.publish');
        return;
      }
      if (event.type !== 'funding.observe') return;
      const rates: Record<string, number> = {};
      const spiking: string[] = [];
      for (const [s, r] of Object.entries(event.rates)) {
        if (!Number.isFinite(r.ratePct)) continue;
        rates[s] = r.ratePct;
        if (Math.abs(r.ratePct) > c.thresholdPct) spiking.push(s);
      }
      spiking.sort();
      const plans = fundingPlans(c, event.rates, event.positions);
      const handled = { ...c.handled };
      for (const p of plans) handled[p.symbol] = p.key;
      const wasSpiking = c.spiking.length > 0;
      const isSpiking = spiking.length > 0;
      enqueue.assign({
        rates,
        spiking,
        handled,
        lastPlans: plans.length > 0 ? plans : c.lastPlans,
        lastPollAt: event.at,
        since: isSpiking ? (c.since ?? event.at) : null,
        pollError: null,
      });
      if (isSpiking && (!wasSpiking || wasBlind)) enqueue.raise({ type: 'health.degrade', reason: FUNDING_SPIKE });
      if (!isSpiking && (wasSpiking || wasBlind) && !c.failClosed) enqueue.raise({ type: 'health.ok' });
      if (plans.length > 0) enqueue({ type: 'funding.act', params: { plans } });
      enqueue('funding.publish');
    }),
  },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  id: 'fundingGuard',
  initial: 'running',
  context: ({ input }) => {
    const p = input.persisted ?? {};
    const spiking = Array.isArray(p.spiking) ? p.spiking.filter((s): s is string => typeof s === 'string') : [];
    return {
      venue: input.venue,
      thresholdPct: input.thresholdPct,
      trimPct: input.trimPct,
      hedgeRatio: input.hedgeRatio,
      hedgeSymbol: input.hedgeSymbol ?? 'BTCUSDT',
      rates: p.rates && typeof p.rates === 'object' ? { ...p.rates } : {},
      // Fail closed: a restart keeps the spike (and what was already trimmed) until a poll says otherwise.
      spiking,
      handled: p.handled && typeof p.handled === 'object' ? { ...p.handled } : {},
      trims: typeof p.trims === 'number' ? p.trims : 0,
      hedges: typeof p.hedges === 'number' ? p.hedges : 0,
      lastPlans: [],
      lastPollAt: null,
      pollError: null,
      since: typeof p.since === 'number' ? p.since : null,
      failClosed: input.failClosed,
      health: input.failClosed
        ? initialHealth(input.failClosed)
        : spiking.length > 0
          ? { value: 'DEGRADED', reason: FUNDING_SPIKE }
          : initialHealth(),
    } as FundingGuardContext;
  },
  states: {
    running: {
      type: 'parallel',
      invoke: { src: 'poller' },
      on: {
        'sup.shutdown': 'done',
        'funding.observe': { actions: 'update' },
        'funding.result': { actions: 'update' },
        'funding.failed': { actions: 'update' },
        'limits.update': { actions: 'update' },
      },
      states: { health: healthRegion as never },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
