import { assign, enqueueActions, setup } from 'xstate';
import { isoUtc } from '../domain/iso-time.js';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * conn:<venue> — the health of the link to one venue, judged from the outcome of every request the venue
 * actors make (DESIGN §7). A sliding window of recent outcomes gives the error rate:
 * - DEGRADED on rising errors, a 429, or local rate-budget pressure (before a 429 becomes a 418 ban);
 * - HALTED on an authentication failure (needs `conn.reset` by an operator: a bad key does not heal), on a 418
 *   ban (recovers after Retry-After), on a venue outage (error rate past `haltPct`), or while the venue breaker
 *   is tripped; recovers on its own when requests succeed again, except after `auth`.
 * Pure: the blocking of further requests is the provided `conn.publish` action.
 */
export const CONN_ERROR_KINDS = ['auth', 'ban', 'rate_limit', 'network', 'exchange', 'invalid', 'other'] as const;
export type ConnErrorKind = (typeof CONN_ERROR_KINDS)[number];

export interface ConnInput {
  venue: string;
  /** Outcomes kept in the sliding window. */
  windowSize: number;
  /** Minimum samples before the error rate is judged. */
  minSamples: number;
  degradePct: number;
  haltPct: number;
  /** Budget pressure (0..1) at which the venue goes DEGRADED. */
  pressureLimit: number;
  /** |venue clock − ours| (ms) beyond which the venue goes DEGRADED (timestamps are corrected, the host is not). */
  clockLimitMs?: number;
  failClosed?: string;
}

export interface ConnOutcome {
  ok: boolean;
  kind?: ConnErrorKind | undefined;
}

export interface ConnContext extends HealthContext {
  venue: string;
  windowSize: number;
  minSamples: number;
  degradePct: number;
  haltPct: number;
  pressureLimit: number;
  clockLimitMs: number;
  /** Venue clock minus ours (ms), last measured; null before the first measurement (runbook: "clock offset"). */
  clockOffsetMs: number | null;
  clockMeasuredAt: number | null;
  window: number[];
  errorPct: number;
  pressure: number;
  /** Sticky condition that only an operator reset clears. */
  authFailed: string | undefined;
  /** Epoch ms until which a 418 ban holds. */
  bannedUntil: number;
  breakerTripped: string | undefined;
  lastRateLimitAt: number;
  requests: number;
  errors: number;
  /** Latest event time seen (the machine has no clock; the effect layer stamps every event). */
  lastAt: number;
}

export type ConnEvent =
  | { type: 'conn.result'; ok: boolean; kind?: ConnErrorKind; message?: string; at: number; retryAfterMs?: number }
  | { type: 'conn.pressure'; value: number; at: number }
  | { type: 'conn.clock'; offsetMs: number; at: number }
  | { type: 'conn.tick'; at: number }
  | { type: 'conn.reset'; at: number }
  | { type: 'breaker.tripped'; reason: string; at: number }
  | { type: 'breaker.cleared'; at: number }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

/** JSON-safe "long ago" (context must round-trip through LMDB; -Infinity would not). */
const NEVER = -1e15;

export const CONN_DEFAULTS = {
  windowSize: 50,
  minSamples: 5,
  degradePct: 20,
  haltPct: 80,
  pressureLimit: 0.9,
  clockLimitMs: 2_000,
} as const;

/** The health the link deserves right now; pure so it is table-tested on its own. */
export function judge(c: ConnContext, now: number): { value: 'OK' | 'DEGRADED' | 'HALTED'; reason: string } {
  if (c.failClosed) return { value: 'HALTED', reason: c.failClosed };
  if (c.authFailed) return { value: 'HALTED', reason: `auth: ${c.authFailed}` };
  if (c.bannedUntil > now) return { value: 'HALTED', reason: `ban: until ${isoUtc(c.bannedUntil)}` };
  if (c.breakerTripped) return { value: 'HALTED', reason: `breaker: ${c.breakerTripped}` };
  const judged = c.window.length >= c.minSamples;
  if (judged && c.errorPct >= c.haltPct)
    return { value: 'HALTED', reason: `venue_unavailable: ${c.errorPct.toFixed(0)}% errors` };
  if (now - c.lastRateLimitAt < 60_000) return { value: 'DEGRADED', reason: 'rate_limited: 429 in the last minute' };
  if (judged && c.errorPct >= c.degradePct)
    return { value: 'DEGRADED', reason: `error_rate: ${c.errorPct.toFixed(0)}%` };
  if (c.clockOffsetMs !== null && Math.abs(c.clockOffsetMs) > c.clockLimitMs)
    return {
      value: 'DEGRADED',
      reason: `clock_offset: venue clock ${c.clockOffsetMs > 0 ? '+' : ''}${c.clockOffsetMs} ms from ours (corrected; fix the host clock)`,
    };
  if (c.pressure >= c.pressureLimit)
    return { value: 'DEGRADED', reason: `rate_budget: ${(c.pressure * 100).toFixed(0)}% used` };
  return { value: 'OK', reason: '' };
}

function pct(window: number[]): number {
  if (window.length === 0) return 0;
  let bad = 0;
  for (const w of window) bad += w;
  return (bad / window.length) * 100;
}

export const connMachine = setup({
  types: {} as { context: ConnContext; events: ConnEvent; input: ConnInput },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    /** Effect slot: tells the venue link whether to block requests (auth, ban, breaker). */
    'conn.publish': () => {},
    record: assign(({ context, event }) => {
      if (event.type !== 'conn.result') return {};
      const window = [...context.window, event.ok ? 0 : 1].slice(-context.windowSize);
      const patch: Partial<ConnContext> = {
        window,
        errorPct: pct(window),
        requests: context.requests + 1,
        errors: context.errors + (event.ok ? 0 : 1),
      };
      if (!event.ok && event.kind === 'auth') patch.authFailed = event.message ?? 'authentication failed';
      if (!event.ok && event.kind === 'ban') patch.bannedUntil = event.at + (event.retryAfterMs ?? 60_000);
      if (!event.ok && event.kind === 'rate_limit') patch.lastRateLimitAt = event.at;
      return patch;
    }),
    pressure: assign(({ event }) => (event.type === 'conn.pressure' ? { pressure: event.value } : {})),
    clock: assign(({ event }) =>
      event.type === 'conn.clock' ? { clockOffsetMs: Math.round(event.offsetMs), clockMeasuredAt: event.at } : {},
    ),
    reset: assign({
      authFailed: undefined,
      bannedUntil: 0,
      window: [],
      errorPct: 0,
      failClosed: undefined,
      lastRateLimitAt: NEVER,
    }),
    tripped: assign(({ event }) => (event.type === 'breaker.tripped' ? { breakerTripped: event.reason } : {})),
    cleared: assign({ breakerTripped: undefined }),
    /** Raises the health event the judgement asks for; the region makes it edge-triggered. */
    stamp: assign(({ context, event }) =>
      'at' in event && typeof event.at === 'number' ? { lastAt: Math.max(context.lastAt, event.at) } : {},
    ),
    rejudge: enqueueActions(({ context, enqueue }) => {
      const h = judge(context, context.lastAt);
      if (h.value === context.health.value && h.reason === context.health.reason) return;
      if (h.value === 'OK') enqueue.raise({ type: 'health.ok' });
      else enqueue.raise({ type: h.value === 'DEGRADED' ? 'health.degrade' : 'health.halt', reason: h.reason });
      enqueue('conn.publish');
    }),
  },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  id: 'conn',
  type: 'parallel',
  context: ({ input }) => ({
    venue: input.venue,
    windowSize: input.windowSize,
    minSamples: input.minSamples,
    degradePct: input.degradePct,
    haltPct: input.haltPct,
    pressureLimit: input.pressureLimit,
    clockLimitMs: input.clockLimitMs ?? CONN_DEFAULTS.clockLimitMs,
    clockOffsetMs: null,
    clockMeasuredAt: null,
    window: [],
    errorPct: 0,
    pressure: 0,
    authFailed: undefined,
    bannedUntil: 0,
    breakerTripped: undefined,
    lastRateLimitAt: NEVER,
    requests: 0,
    errors: 0,
    lastAt: 0,
    failClosed: input.failClosed,
    health: initialHealth(input.failClosed),
  }),
  states: {
    health: healthRegion as never,
    link: {
      on: {
        'conn.result': { actions: ['stamp', 'record', 'rejudge'] },
        'conn.pressure': { actions: ['stamp', 'pressure', 'rejudge'] },
        'conn.clock': { actions: ['stamp', 'clock', 'rejudge'] },
        'conn.tick': { actions: ['stamp', 'rejudge'] },
        'conn.reset': { actions: ['stamp', 'reset', 'rejudge'] },
        'breaker.tripped': { actions: ['stamp', 'tripped', 'rejudge'] },
        'breaker.cleared': { actions: ['stamp', 'cleared', 'rejudge'] },
      },
    },
  },
});
