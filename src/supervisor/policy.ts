import type { Health } from '../machines/health.js';
import type { Liveness } from './rollup.js';

/**
 * Pure supervision policy (OTP semantics, reference §1.1 / §4.3): which children a crash affects, whether a
 * child is restarted at all, the sliding restart-intensity window and the backoff delay. No XState here, so
 * every rule is a table test.
 */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
export type RestartType = 'permanent' | 'transient' | 'temporary';
/** fresh: respawn with the original input. guard: money-guarding, restart from last good snapshot, fail closed on a repeat. */
export type RestartFlavour = 'fresh' | 'guard';

export interface ChildSpec {
  /** Unique among siblings; also the XState systemId unless `systemId` says otherwise. */
  id: string;
  /** Key of the registered actor logic (never inline logic: persistence needs a key). */
  src: string;
  input?: unknown;
  systemId?: string;
  restart?: RestartType;
  critical?: boolean;
  /** Graceful shutdown budget; 0 = brutal kill. */
  shutdownMs?: number;
  flavour?: RestartFlavour;
}

export interface ResolvedSpec extends Required<Omit<ChildSpec, 'input'>> {
  input: unknown;
}

export const CHILD_DEFAULTS = { restart: 'permanent', critical: true, shutdownMs: 5_000, flavour: 'fresh' } as const;

export function resolveSpec(s: ChildSpec): ResolvedSpec {
  return {
    id: s.id,
    src: s.src,
    input: s.input,
    systemId: s.systemId ?? s.id,
    restart: s.restart ?? CHILD_DEFAULTS.restart,
    critical: s.critical ?? CHILD_DEFAULTS.critical,
    shutdownMs: s.shutdownMs ?? CHILD_DEFAULTS.shutdownMs,
    flavour: s.flavour ?? CHILD_DEFAULTS.flavour,
  };
}

export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: delay × (1 + jitter × random()). */
  jitter: number;
  /** A child up at least this long starts its backoff sequence again. */
  resetAfterMs: number;
  immediateFirst: boolean;
}

export const BACKOFF_DEFAULTS: BackoffPolicy = {
  minMs: 250,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
  resetAfterMs: 60_000,
  immediateFirst: true,
};

export interface KidState {
  liveness: Liveness;
  health: Health;
  reason: string;
  restarts: number;
  attempt: number;
  startedAt: number;
  lastError?: string | undefined;
  /** Last good persisted snapshot of a guard child, held while it waits in backoff. */
  resume?: unknown;
  /** Crash time of a guard child's previous crash (fail closed if it crashes again inside the window). */
  lastCrashAt?: number | undefined;
  failClosed?: string | undefined;
  /** Bumped by operator commands so a pending backoff timer for an older decision is ignored. */
  epoch: number;
}

/** Is this exit one the restart type asks us to restart? `abnormal` = error, or done with reason ≠ normal. */
export function shouldRestart(restart: RestartType, abnormal: boolean): boolean {
  if (restart === 'temporary') return false;
  if (restart === 'transient') return abnormal;
  return true;
}

/** Children affected by a failure of `id`, in start order. */
export function affectedSet(
  strategy: Strategy,
  order: readonly string[],
  id: string,
  kids: Record<string, KidState>,
): string[] {
  const live = (k: string) => k === id || kids[k]?.liveness === 'running' || kids[k]?.liveness === 'backoff';
  if (strategy === 'one_for_one') return [id];
  if (strategy === 'one_for_all') return order.filter(live);
  const at = order.indexOf(id);
  return order.slice(at < 0 ? 0 : at).filter(live);
}

/**
 * OTP add_restart: keep restarts inside the window, append now; true (escalate) when more than `intensity`.
 * Compacts `log` in place, as the supervisor updates its per-child records (see `act`): no array per restart.
 */
export function recordRestart(log: number[], now: number, periodMs: number, intensity: number): boolean {
  let kept = 0;
  for (let i = 0; i < log.length; i++) {
    const t = log[i] as number;
    if (now - t <= periodMs) log[kept++] = t;
  }
  log.length = kept;
  log.push(now);
  return log.length > intensity;
}

/**
 * Exponential backoff with jitter. With `immediateFirst` the first restart of a sequence is immediate, as in
 * OTP (a one-off crash costs microseconds, not minMs); only repeated crashes back off, as in Akka.
 */
export function backoffDelay(p: BackoffPolicy, attempt: number, random: number): number {
  const n = p.immediateFirst ? attempt - 1 : attempt;
  if (n < 0) return 0;
  const base = Math.min(p.maxMs, p.minMs * p.factor ** n);
  return Math.round(base * (1 + p.jitter * random));
}

/** The attempt number of this restart: 0 after a healthy run of resetAfterMs, else one more than last time. */
export function attemptFor(kid: KidState, now: number, p: BackoffPolicy): number {
  return now - kid.startedAt >= p.resetAfterMs ? 0 : kid.attempt;
}
