import { enqueueActions, fromCallback, setup } from 'xstate';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from './health.js';

/**
 * guard:depeg:<venue> — the USDT depeg guard (DESIGN §8, runbook "Depeg detected"). It watches the USDT/USDC price
 * and the BTCUSDT/BTCUSDC ratio; a deviation beyond `thresholdPct` held continuously for `confirmMs` trips it
 * (HALTED, reason `depeg_trigger`). Tripped, the rails refuse new USDT-quoted entries on every venue. It re-arms
 * only once parity has held within the threshold for `cooldownMs`: on an operator's re-arm, or by itself on the
 * first observation of a new UTC day (the daily reset). A missing or non-finite observation never trips it, but
 * it does break the "parity has held" streak (fail closed: what is not seen is not validated).
 */
export interface DepegObservation {
  /** USDT priced in USDC (1 at parity). */
  usdtUsdc: number | null;
  /** BTCUSDT / BTCUSDC (1 at parity). */
  btcRatio: number | null;
  at: number;
  /** With both figures missing: why (which venue lacks what); the blind health reason. */
  blind?: string;
}

export interface DepegGuardInput {
  venue: string;
  thresholdPct: number;
  confirmMs: number;
  cooldownMs: number;
  persisted?: Partial<DepegGuardContext> | undefined;
  failClosed?: string;
  /** When the guard (re)started: it is blind from then until its first parity reading. */
  startedAt?: number;
}

export type DepegPhase = 'armed' | 'confirming' | 'tripped';

export interface DepegGuardContext extends HealthContext {
  venue: string;
  thresholdPct: number;
  confirmMs: number;
  cooldownMs: number;
  phase: DepegPhase;
  /** Largest deviation from parity in the last observation (%), null when nothing usable was seen. */
  deviationPct: number | null;
  usdtUsdc: number | null;
  btcRatio: number | null;
  /** Start of the current continuous breach. */
  breachSince: number | null;
  trippedAt: number | null;
  /** While tripped: start of the current continuous run within the threshold. */
  heldSince: number | null;
  lastObsAt: number | null;
  reason: string;
  trips: number;
  rearms: number;
  lastRearm: { at: number; by: string } | null;
  /**
   * Since when the guard has had no usable parity reading (both figures missing: the poll failed), null while it
   * sees. A blind guard cannot tell a depeg from calm, so it refuses new entries as if tripped (fail closed).
   */
  blindSince?: number | null;
}

/** Health reason of a blind depeg guard. */
export const DEPEG_BLIND = 'blind: no USDT/USDC or BTC parity reading';

export type DepegGuardEvent =
  | ({ type: 'depeg.observe' } & DepegObservation)
  | { type: 'depeg.rearm'; at: number; by: string }
  | { type: 'limits.update'; thresholdPct?: number; confirmMs?: number; cooldownMs?: number }
  | { type: 'sup.shutdown' }
  | { type: 'health.ok'; reason?: string }
  | { type: 'health.degrade'; reason: string }
  | { type: 'health.halt'; reason: string };

export const DEPEG_TRIGGER = 'depeg_trigger';

/** Largest deviation from parity of an observation (%), null when neither figure is a positive number. */
export function deviationPct(o: Pick<DepegObservation, 'usdtUsdc' | 'btcRatio'>): number | null {
  let worst: number | null = null;
  for (const v of [o.usdtUsdc, o.btcRatio]) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) continue;
    const d = Math.abs(v - 1) * 100;
    worst = worst === null ? d : Math.max(worst, d);
  }
  return worst;
}

export type RearmCheck =
  | { ok: true }
  | { ok: false; code: 'NOT_TRIPPED' | 'PARITY_BROKEN' | 'COOLDOWN'; message: string };

/** Whether a re-arm at `at` is allowed (the route and the daily reset both ask this). */
export function depegRearmCheck(c: DepegGuardContext, at: number): RearmCheck {
  if (!c.failClosed && c.phase !== 'tripped')
    return { ok: false, code: 'NOT_TRIPPED', message: 'the depeg guard is armed, not tripped' };
  if (c.heldSince === null || c.deviationPct === null || c.deviationPct > c.thresholdPct)
    return {
      ok: false,
      code: 'PARITY_BROKEN',
      message: `parity is still broken (deviation ${c.deviationPct === null ? 'unknown' : `${c.deviationPct.toFixed(3)}%`}, threshold ${c.thresholdPct}%)`,
    };
  const left = c.heldSince + c.cooldownMs - at;
  if (left > 0)
    return {
      ok: false,
      code: 'COOLDOWN',
      message: `parity has held for ${((at - c.heldSince) / 1000).toFixed(1)} s; re-arm allowed after ${(c.cooldownMs / 1000).toFixed(0)} s (${(left / 1000).toFixed(1)} s more)`,
    };
  return { ok: true };
}

export function depegGuardView(ctx: unknown) {
  const c = ctx as DepegGuardContext;
  const failClosed = c.failClosed ? `crash_loop: ${c.failClosed}` : '';
  const blind = c.phase !== 'tripped' && c.blindSince !== undefined && c.blindSince !== null;
  return {
    active: c.phase === 'tripped' || failClosed !== '' || blind,
    phase: c.phase,
    failClosed: failClosed !== '',
    blind,
    reason:
      c.phase === 'tripped'
        ? c.reason
        : failClosed || (blind ? (c.health?.reason?.startsWith(DEPEG_BLIND) ? c.health.reason : DEPEG_BLIND) : ''),
    deviationPct: c.deviationPct,
    usdtUsdc: c.usdtUsdc,
    btcRatio: c.btcRatio,
    thresholdPct: c.thresholdPct,
    confirmSec: c.confirmMs / 1000,
    cooldownSec: c.cooldownMs / 1000,
    breachSince: c.breachSince,
    trippedAt: c.trippedAt,
    heldSince: c.heldSince,
    lastObsAt: c.lastObsAt,
    trips: c.trips,
    rearms: c.rearms,
    lastRearm: c.lastRearm,
  };
}

/** Telegram-ready alert line for a trip (🔴 HALTED with reason `depeg_trigger`, DESIGN §10). */
export function depegAlertText(v: {
  venue: string;
  deviationPct: number | null;
  usdtUsdc: number | null;
  btcRatio: number | null;
  thresholdPct: number;
  exitRisk: boolean;
}): string {
  const f = (n: number | null, d: number) => (n === null ? 'n/a' : n.toFixed(d));
  return [
    `🔴 HALTED guard:depeg:${v.venue} reason ${DEPEG_TRIGGER}`,
    `USDT/USDC ${f(v.usdtUsdc, 4)} · BTCUSDT/BTCUSDC ${f(v.btcRatio, 4)} · deviation ${f(v.deviationPct, 2)}% (threshold ${v.thresholdPct}%)`,
    v.exitRisk
      ? 'New USDT entries refused; DEPEG_EXIT_RISK=true: reducing USDT exposure.'
      : 'New USDT entries refused; existing positions kept (DEPEG_EXIT_RISK=false).',
    'Re-arm after the cooldown once parity holds: bosun depeg rearm',
  ].join('\n');
}

const utcDay = (t: number) => Math.floor(t / 86_400_000);

export const depegGuardMachine = setup({
  types: {} as { context: DepegGuardContext; events: DepegGuardEvent; input: DepegGuardInput },
  actors: {
    /** Effect slot: the actor provides the poller that sends `depeg.observe`. */
    poller: fromCallback(() => () => {}),
  },
  actions: {
    ...(healthActions as unknown as Record<string, never>),
    /** Effect slot: metrics and persistence. */
    'depeg.publish': () => {},
    /** Effect slot: the guard just tripped (alert, exit risk). */
    'depeg.tripped': () => {},
    /** Effect slot: the guard re-armed. */
    'depeg.rearmed': (_: unknown, _p: { by: string }) => {},
    update: enqueueActions(({ context: c, event, enqueue }) => {
      if (event.type === 'limits.update') {
        enqueue.assign({
          thresholdPct: event.thresholdPct ?? c.thresholdPct,
          confirmMs: event.confirmMs ?? c.confirmMs,
          cooldownMs: event.cooldownMs ?? c.cooldownMs,
        });
        return;
      }
      const rearm = (at: number, by: string) => {
        enqueue.assign({
          phase: 'armed',
          reason: '',
          breachSince: null,
          trippedAt: null,
          heldSince: null,
          failClosed: undefined,
          rearms: c.rearms + 1,
          lastRearm: { at, by },
        });
        enqueue.raise({ type: 'health.ok' });
        enqueue({ type: 'depeg.rearmed', params: { by } });
        enqueue('depeg.publish');
      };
      if (event.type === 'depeg.rearm') {
        if (depegRearmCheck(c, event.at).ok) rearm(event.at, event.by);
        return;
      }
      if (event.type !== 'depeg.observe') return;
      const dev = deviationPct(event);
      const breach = dev !== null && dev > c.thresholdPct;
      const within = dev !== null && !breach;
      const obs = { deviationPct: dev, usdtUsdc: event.usdtUsdc, btcRatio: event.btcRatio, lastObsAt: event.at };
      if (c.phase === 'tripped' || c.failClosed) {
        const heldSince = within ? (c.heldSince ?? event.at) : null;
        enqueue.assign({ ...obs, heldSince });
        const next = { ...c, ...obs, heldSince };
        // The daily reset: the first observation of a new UTC day re-arms when parity has held long enough.
        if (c.lastObsAt !== null && utcDay(event.at) !== utcDay(c.lastObsAt) && depegRearmCheck(next, event.at).ok) {
          rearm(event.at, 'daily_reset');
          return;
        }
        if ((heldSince === null) !== (c.heldSince === null)) enqueue('depeg.publish');
        return;
      }
      const wasBlind = c.blindSince !== undefined && c.blindSince !== null;
      if (!breach) {
        // A missing observation keeps a breach in progress (it neither confirms nor clears it), and leaves the
        // guard blind: DEGRADED, refusing new entries as if tripped until it sees parity again.
        if (dev === null) {
          enqueue.assign({ ...obs, blindSince: c.blindSince ?? event.at });
          const reason = event.blind ?? DEPEG_BLIND;
          if (!wasBlind || c.health.reason !== reason) {
            enqueue.raise({ type: 'health.degrade', reason });
            enqueue('depeg.publish');
          }
          return;
        }
        enqueue.assign({ ...obs, phase: 'armed', breachSince: null, blindSince: null });
        if (c.phase === 'confirming' || wasBlind) {
          enqueue.raise({ type: 'health.ok' });
          enqueue('depeg.publish');
        }
        return;
      }
      if (wasBlind) enqueue.assign({ blindSince: null });
      const since = c.breachSince ?? event.at;
      if (event.at - since >= c.confirmMs) {
        enqueue.assign({
          ...obs,
          phase: 'tripped',
          breachSince: since,
          trippedAt: event.at,
          heldSince: null,
          reason: DEPEG_TRIGGER,
          trips: c.trips + 1,
        });
        enqueue.raise({ type: 'health.halt', reason: DEPEG_TRIGGER });
        enqueue('depeg.tripped');
        enqueue('depeg.publish');
        return;
      }
      enqueue.assign({ ...obs, phase: 'confirming', breachSince: since });
      if (c.phase !== 'confirming') {
        enqueue.raise({ type: 'health.degrade', reason: 'depeg_suspected' });
        enqueue('depeg.publish');
      }
    }),
  },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  id: 'depegGuard',
  initial: 'running',
  context: ({ input }) => {
    const p = input.persisted ?? {};
    const tripped = p.phase === 'tripped';
    return {
      venue: input.venue,
      thresholdPct: input.thresholdPct,
      confirmMs: Math.max(0, input.confirmMs),
      cooldownMs: Math.max(0, input.cooldownMs),
      phase: tripped ? 'tripped' : 'armed',
      deviationPct: null,
      usdtUsdc: null,
      btcRatio: null,
      breachSince: null,
      trippedAt: tripped && typeof p.trippedAt === 'number' ? p.trippedAt : null,
      // Fail closed: after a restart parity has to be seen holding again before a re-arm.
      heldSince: null,
      lastObsAt: null,
      reason: tripped ? DEPEG_TRIGGER : '',
      trips: typeof p.trips === 'number' ? p.trips : 0,
      rearms: typeof p.rearms === 'number' ? p.rearms : 0,
      lastRearm: p.lastRearm ?? null,
      // Fail closed: a (re)started guard has seen no parity yet, so it refuses new USDT entries until its first
      // reading (a restart used to let strategy orders out during the first poll, up to 15 s before /readyz).
      blindSince: tripped ? null : (input.startedAt ?? 0),
      failClosed: input.failClosed,
      health: input.failClosed
        ? initialHealth(input.failClosed)
        : tripped
          ? { value: 'HALTED', reason: DEPEG_TRIGGER }
          : initialHealth(),
    } as DepegGuardContext;
  },
  states: {
    running: {
      type: 'parallel',
      invoke: { src: 'poller' },
      on: {
        'sup.shutdown': 'done',
        'depeg.observe': { actions: 'update' },
        'depeg.rearm': { actions: 'update' },
        'limits.update': { actions: 'update' },
      },
      states: { health: healthRegion as never },
    },
    done: { type: 'final' },
  },
  output: () => ({ reason: 'normal' }),
});
