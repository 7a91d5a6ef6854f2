import { type AnyActorLogic, type AnyActorRef, enqueueActions, setup } from 'xstate';
import { HEALTH_RANK, type Health, type HealthInfo, initialHealth, type SupHealthEvent } from '../machines/health.js';
import {
  affectedSet,
  attemptFor,
  BACKOFF_DEFAULTS,
  type BackoffPolicy,
  backoffDelay,
  type ChildSpec,
  type KidState,
  type ResolvedSpec,
  recordRestart,
  resolveSpec,
  type Strategy,
  shouldRestart,
} from './policy.js';
import { hasParent, isRunning, isStopped, reapTree } from './reap.js';
import { resumable } from './resumable.js';
import { type ChildView, contribution, type Liveness, rollup } from './rollup.js';
import { type OnTransition, watchTransitions } from './transition-history.js';

/** Effects a supervisor reports to the outside world (metrics, logs, alerts); injected where the tree is built. */
export interface SupervisorHooks {
  onHealth?(actorId: string, health: Health, reason: string): void;
  onRestart?(e: { supervisor: string; child: string; delayMs: number; reason: string }): void;
  onEscalate?(e: { supervisor: string; child: string; reason: string }): void;
  onChildExit?(e: { supervisor: string; child: string; abnormal: boolean; reason: string }): void;
  /** A child is stopped for good (terminated, removed, or shut down), not waiting for a restart. */
  onChildStopped?(child: string): void;
  /** A child's active states changed (or it started): the inspector's last transitions. */
  onTransition?: OnTransition;
}

export interface SupervisorOptions {
  strategy: Strategy;
  /** More than `intensity` restarts within `periodMs` escalates. */
  intensity: number;
  periodMs: number;
  backoff?: Partial<BackoffPolicy>;
  children: ChildSpec[];
  /** Every logic a child (static or added later) may be spawned from, by key. */
  logics: Record<string, AnyActorLogic>;
  now?: () => number;
  random?: () => number;
  hooks?: SupervisorHooks;
}

type Then =
  | { kind: 'restart'; ids: string[]; delayMs: number; reason: string; fresh?: boolean }
  | { kind: 'terminate' }
  | { kind: 'shutdown' }
  | { kind: 'escalate' };

interface Drain {
  queue: string[];
  current?: string | undefined;
  after: Then;
}

export interface SupervisorContext {
  strategy: Strategy;
  order: string[];
  specs: Record<string, ResolvedSpec>;
  kids: Record<string, KidState>;
  restartLog: number[];
  health: HealthInfo;
  exit?: { reason: string; child: string; error: string } | undefined;
  drain?: Drain | undefined;
}

export type SupervisorEvent =
  | SupHealthEvent
  | { type: 'sup.shutdown' }
  | { type: 'sup.restartChild'; id: string }
  | { type: 'sup.terminateChild'; id: string }
  | { type: 'sup.startChild'; id: string }
  | { type: 'sup.addChild'; spec: ChildSpec }
  | { type: 'sup.deleteChild'; id: string }
  | { type: 'sup.$restart'; ids: string[]; epochs: number[] }
  | { type: 'sup.$wait' }
  | { type: 'sup.$next' }
  | { type: 'sup.$drained' }
  | { type: string; [k: string]: unknown };

/** Commands an operator may send a supervisor through the runtime (allow-list for the HTTP layer). */
export const SUPERVISOR_COMMANDS = [
  'sup.restartChild',
  'sup.terminateChild',
  'sup.startChild',
  'sup.deleteChild',
] as const;

/**
 * True when `id` names a child of this supervisor. `specs` and `kids` are plain JSON objects (context round-trips
 * through LMDB), so a bare `specs[id]` also finds `toString`, `constructor`… on the prototype: an operator's
 * `{"type":"sup.restartChild","id":"toString"}` once created phantom children and broke the fatal path.
 */
export function hasChild(ctx: Pick<SupervisorContext, 'specs'>, id: unknown): id is string {
  return typeof id === 'string' && Object.hasOwn(ctx.specs, id);
}

/** The child's state record, own properties only (see `hasChild`). */
function kidOf(ctx: SupervisorContext, id: string): KidState | undefined {
  return Object.hasOwn(ctx.kids, id) ? ctx.kids[id] : undefined;
}

function newKid(now: number, failClosed?: string): KidState {
  return {
    liveness: 'running',
    health: 'OK',
    reason: '',
    restarts: 0,
    attempt: 0,
    startedAt: now,
    failClosed,
    epoch: 0,
  };
}

function views(ctx: SupervisorContext): ChildView[] {
  return ctx.order.map((id) => {
    const k = ctx.kids[id];
    return {
      id,
      liveness: (k?.liveness ?? 'removed') as Liveness,
      health: k?.health ?? 'OK',
      reason: k?.reason ?? '',
      critical: ctx.specs[id]?.critical ?? true,
    };
  });
}

function views1(ctx: SupervisorContext, id: string): ChildView | undefined {
  const k = kidOf(ctx, id);
  if (!k) return undefined;
  return { id, liveness: k.liveness, health: k.health, reason: k.reason, critical: ctx.specs[id]?.critical ?? true };
}

/** A child other than `changed` whose contribution is `level`, searched circularly from just after `changed`. */
function sameLevelOffender(
  ctx: SupervisorContext,
  changed: string,
  level: Health,
): { value: Health; reason: string } | undefined {
  if (level === 'OK') return undefined;
  const n = ctx.order.length;
  const start = ctx.order.indexOf(changed);
  for (let i = 1; i < n; i++) {
    const id = ctx.order[(start + i) % n]!;
    const v = views1(ctx, id);
    if (v && contribution(v) === level) {
      return { value: level, reason: `${id}:${v.liveness}:${v.health}${v.reason ? `: ${v.reason}` : ''}` };
    }
  }
  return undefined;
}

function errText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'reason' in e) return String((e as { reason: unknown }).reason);
  return String(e);
}

/** Parses `xstate.error.actor.<id>` / `xstate.done.actor.<id>`. */
function exitOf(event: { type: string; [k: string]: unknown }) {
  const isError = event.type.startsWith('xstate.error.actor.');
  const id = event.type.slice(isError ? 'xstate.error.actor.'.length : 'xstate.done.actor.'.length);
  const output = event.output as { reason?: string; error?: string } | undefined;
  const abnormal = isError || (output?.reason ?? 'normal') !== 'normal';
  const reason = isError ? errText(event.error) : (output?.reason ?? 'normal');
  return { id, abnormal, reason };
}

/**
 * An OTP-style supervisor as ordinary XState machine logic, so a supervisor can itself be a supervised
 * child (DESIGN §4, reference §4.3). Children are spawned by key; crashes arrive as
 * `xstate.error.actor.*`, exits as `xstate.done.actor.*`; health arrives as `sup.health`. Escalation is a
 * final state with an abnormal output, never a throw (a throw would orphan the children).
 */
export function createSupervisor(opts: SupervisorOptions) {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const backoff: BackoffPolicy = { ...BACKOFF_DEFAULTS, ...opts.backoff };
  const hooks = opts.hooks ?? {};
  const watch = hooks.onTransition;
  const logics = Object.fromEntries(
    Object.entries(opts.logics).map(([k, l]) => [k, resumable(watch ? watchTransitions(l, watch) : l)]),
  );
  const initialSpecs = opts.children.map(resolveSpec);

  type Enqueue = Parameters<Parameters<typeof enqueueActions>[0]>[0]['enqueue'];
  interface Scope {
    ctx: SupervisorContext;
    self: AnyActorRef;
    enqueue: Enqueue;
    /** Dead children whose `stopChild` waits for the end of this step: a respawn replaces them in place. */
    dead: Set<string> | undefined;
  }

  const childRef = (self: AnyActorRef, id: string): AnyActorRef | undefined =>
    (self.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children[id];

  /**
   * Publishes the roll-up if it changed (edge-triggered, upward and to the hooks). With `changed` (one child's
   * health moved) it is O(1) unless that child was the worst offender: a kill reaching 1,000 symbol actors must
   * not cost the supervisor 1,000 full roll-ups.
   */
  function publishHealth(s: Scope, changed?: string): void {
    let r: { value: Health; reason: string };
    if (changed !== undefined) {
      const v = views1(s.ctx, changed);
      const c = v ? contribution(v) : undefined;
      const cur = s.ctx.health;
      if (c !== undefined && HEALTH_RANK[c] > HEALTH_RANK[cur.value]) {
        r = { value: c, reason: `${changed}:${v!.liveness}:${v!.health}${v!.reason ? `: ${v!.reason}` : ''}` };
      } else if (cur.reason.startsWith(`${changed}:`)) {
        // The worst offender improved. Another child at the same level keeps the value; look for one starting
        // after the changed child, so a mass recovery in start order costs O(n) overall, not O(n²).
        r = sameLevelOffender(s.ctx, changed, cur.value) ?? rollup(views(s.ctx));
      } else return;
    } else {
      r = rollup(views(s.ctx));
    }
    if (r.value === s.ctx.health.value && r.reason === s.ctx.health.reason) return;
    s.ctx.health = { value: r.value, reason: r.reason };
    if (hasParent(s.self)) {
      s.enqueue.sendParent({ type: 'sup.health', id: s.self.id, health: r.value, reason: r.reason });
    } else {
      hooks.onHealth?.(s.self.id, r.value, r.reason);
    }
  }

  function spawn(s: Scope, id: string, fresh: boolean): void {
    const spec = s.ctx.specs[id];
    const prev = s.ctx.kids[id];
    if (!spec) return;
    let input: unknown = spec.input;
    if (!fresh && spec.flavour === 'guard' && prev?.failClosed) {
      input = { ...(spec.input as object | undefined), failClosed: prev.failClosed };
    } else if (!fresh && spec.flavour === 'guard' && prev?.resume !== undefined) {
      input = { $resume: prev.resume };
    }
    // Respawning over a dead child overwrites its entry in `snapshot.children` instead of deleting it and adding
    // the key again: XState copies that record on every spawn and stop, and a key that moves to the end gives
    // the copy a new shape each time (≈60 KB of garbage per restart in a bucket of 100, the minor GCs that set
    // the restart p99).
    s.dead?.delete(id);
    s.enqueue.spawnChild(spec.src as never, { id, systemId: spec.systemId, input } as never);
    s.ctx.kids[id] = {
      ...newKid(now(), fresh ? undefined : prev?.failClosed),
      epoch: prev?.epoch ?? 0,
      restarts: prev?.restarts ?? 0,
      attempt: prev?.attempt ?? 0,
      lastError: prev?.lastError,
      lastCrashAt: prev?.lastCrashAt,
      health: prev?.failClosed && !fresh ? 'HALTED' : 'OK',
      reason: prev?.failClosed && !fresh ? prev.failClosed : '',
    };
    hooks.onHealth?.(spec.systemId, s.ctx.kids[id].health, s.ctx.kids[id].reason);
  }

  function stopNow(s: Scope, id: string): void {
    const ref = childRef(s.self, id);
    if (!ref) return;
    reapTree(ref);
    // A crashed or finished child has already stopped (XState unregistered its systemId); all that is left is
    // its entry in `snapshot.children`, removed at the end of the step unless a respawn replaces it first.
    if (!isStopped(ref)) s.enqueue.stopChild(id);
    else if (s.dead) s.dead.add(id);
    else s.dead = new Set([id]);
  }

  function mark(s: Scope, id: string, liveness: Liveness): void {
    const k = s.ctx.kids[id];
    if (!k) return;
    // Temporary children are never restarted, not even when a sibling's failure stopped them (OTP).
    const temp = s.ctx.specs[id]?.restart === 'temporary';
    const next = liveness === 'backoff' && temp ? 'removed' : liveness;
    s.ctx.kids[id] = { ...k, liveness: next };
    if (next === 'stopped' || next === 'removed') hooks.onChildStopped?.(id);
  }

  function startDrain(s: Scope, ids: string[], then: Then): void {
    const queue = [...ids].sort((a, b) => s.ctx.order.indexOf(b) - s.ctx.order.indexOf(a));
    s.ctx.drain = { queue, after: then };
    s.enqueue.raise({ type: 'sup.$next' });
  }

  function escalate(s: Scope, child: string, error: string): void {
    s.ctx.exit = { reason: 'max_restart_intensity', child, error };
    hooks.onEscalate?.({ supervisor: s.self.id, child, reason: error });
    const live = s.ctx.order.filter((k) => s.ctx.kids[k]?.liveness === 'running' && childRef(s.self, k));
    for (const k of s.ctx.order) if (s.ctx.kids[k]?.liveness === 'backoff') mark(s, k, 'stopped');
    startDrain(s, live, { kind: 'escalate' });
  }

  /**
   * A child crashed or exited: mutates the scoped context copy and enqueues effects. Returns the child's id when
   * it is the only child whose record changed (the common one_for_one case), so the roll-up is O(1).
   */
  function onExit(s: Scope, event: { type: string; [k: string]: unknown }, draining: boolean): string | undefined {
    const { id, abnormal, reason } = exitOf(event);
    const kid = s.ctx.kids[id];
    const spec = s.ctx.specs[id];
    const ref = childRef(s.self, id);
    // Stale: unknown child, not running, or the current incarnation is alive (event from an older one).
    if (!kid || !spec || kid.liveness !== 'running' || (ref && isRunning(ref))) return undefined;
    const t = now();
    let resume: unknown;
    if (spec.flavour === 'guard' && ref) {
      const snap = ref.getPersistedSnapshot() as Record<string, unknown>;
      resume = { ...snap, status: 'active', error: undefined, output: undefined };
    }
    stopNow(s, id);
    hooks.onChildExit?.({ supervisor: s.self.id, child: id, abnormal, reason });
    const failClosed =
      spec.flavour === 'guard' && abnormal && kid.lastCrashAt !== undefined && t - kid.lastCrashAt <= opts.periodMs
        ? `crash_loop: ${reason}`
        : undefined;
    // One new record per exit, then updated in place: it is this step's own object.
    const next: KidState = {
      ...kid,
      liveness: 'backoff',
      lastError: abnormal ? reason : kid.lastError,
      resume,
      failClosed: failClosed ?? kid.failClosed,
      lastCrashAt: abnormal ? t : kid.lastCrashAt,
    };
    s.ctx.kids[id] = next;
    if (!shouldRestart(spec.restart, abnormal)) {
      next.liveness = 'removed';
      hooks.onChildStopped?.(id);
      return id;
    }
    if (recordRestart(s.ctx.restartLog, t, opts.periodMs, opts.intensity)) {
      if (draining && s.ctx.drain) s.ctx.drain = undefined;
      escalate(s, id, reason);
      return undefined;
    }
    const attempt = attemptFor(kid, t, backoff);
    const delayMs = backoffDelay(backoff, attempt, random());
    next.attempt = attempt + 1;
    if (draining && s.ctx.drain) {
      // A second failure while siblings are being stopped joins the pending restart group.
      const then = s.ctx.drain.after;
      if (then.kind === 'restart' && !then.ids.includes(id)) then.ids.push(id);
      else if (then.kind !== 'restart') mark(s, id, 'stopped');
      return id;
    }
    const group = affectedSet(s.ctx.strategy, s.ctx.order, id, s.ctx.kids);
    const siblings = group.filter((k) => k !== id && s.ctx.kids[k]?.liveness === 'running');
    // Siblings in backoff join the group now; running ones are marked when the drain has stopped them.
    for (const k of group) if (k !== id && s.ctx.kids[k]?.liveness === 'backoff') s.ctx.kids[k]!.epoch += 1;
    const then: Then = { kind: 'restart', ids: group, delayMs, reason };
    if (siblings.length > 0) startDrain(s, siblings, then);
    else scheduleRestart(s, then);
    return group.length === 1 ? id : undefined;
  }

  function scheduleRestart(s: Scope, then: Extract<Then, { kind: 'restart' }>): void {
    const ids = then.ids
      .filter((k) => s.ctx.kids[k]?.liveness === 'backoff')
      .sort((a, b) => s.ctx.order.indexOf(a) - s.ctx.order.indexOf(b));
    for (const k of ids)
      hooks.onRestart?.({ supervisor: s.self.id, child: k, delayMs: then.delayMs, reason: then.reason });
    if (then.delayMs <= 0) {
      for (const k of ids) restartOne(s, k, then.fresh === true);
    } else {
      const epochs = ids.map((k) => s.ctx.kids[k]?.epoch ?? 0);
      s.enqueue.raise({ type: 'sup.$restart', ids, epochs } as never, { delay: then.delayMs });
    }
  }

  function restartOne(s: Scope, id: string, fresh: boolean): void {
    const k = s.ctx.kids[id];
    if (!k || k.liveness !== 'backoff') return;
    k.restarts += 1;
    spawn(s, id, fresh);
  }

  /**
   * Runs `body` and commits the context with one assign. The copy is shallow on purpose: the per-child
   * records are updated in place, because copying a 1,000-child record on every health report made a kill
   * broadcast O(n²). Context stays plain JSON, so snapshots still round-trip.
   */
  const act = (body: (s: Scope, event: SupervisorEvent) => string | undefined | void) =>
    enqueueActions(({ context, event, self, enqueue }) => {
      const ctx = { ...context } as SupervisorContext;
      const s: Scope = { ctx, self, enqueue: enqueue as Enqueue, dead: undefined };
      const changed = body(s, event as SupervisorEvent);
      if (s.dead) for (const id of s.dead) enqueue.stopChild(id);
      publishHealth(s, typeof changed === 'string' ? changed : undefined);
      enqueue.assign(() => ctx as never);
    }) as unknown as never; // typed loosely: the actions are shared by every transition of this machine

  const drainStep = act((s) => {
    const d = s.ctx.drain;
    if (!d) return;
    d.current = undefined;
    while (d.queue.length > 0) {
      const id = d.queue.shift()!;
      const ref = childRef(s.self, id);
      const spec = s.ctx.specs[id];
      const after: Liveness = d.after.kind === 'restart' ? 'backoff' : 'stopped';
      if (!ref || !isRunning(ref) || !spec || spec.shutdownMs <= 0) {
        stopNow(s, id);
        mark(s, id, after);
        continue;
      }
      d.current = id;
      s.enqueue.sendTo(ref, { type: 'sup.shutdown' });
      s.enqueue.raise({ type: 'sup.$wait' });
      return;
    }
    s.enqueue.raise({ type: 'sup.$drained' });
  });

  const drainTimeout = act((s) => {
    const d = s.ctx.drain;
    if (!d?.current) return;
    // Stubborn child: past its shutdown budget it is killed (OTP `shutdown => N` then `kill`).
    stopNow(s, d.current);
    mark(s, d.current, d.after.kind === 'restart' ? 'backoff' : 'stopped');
    d.current = undefined;
  });

  const drainExit = act((s, event) => {
    const d = s.ctx.drain;
    const { id } = exitOf(event as { type: string });
    if (d?.current === id) {
      stopNow(s, id);
      mark(s, id, d.after.kind === 'restart' ? 'backoff' : 'stopped');
      d.current = undefined;
      s.enqueue.raise({ type: 'sup.$next' });
      return;
    }
    return onExit(s, event as { type: string }, true);
  });

  const drainDone = act((s) => {
    const d = s.ctx.drain;
    s.ctx.drain = undefined;
    if (d?.after.kind === 'restart') scheduleRestart(s, d.after);
  });

  return setup({
    types: {} as { context: SupervisorContext; events: SupervisorEvent },
    actors: logics,
    delays: {
      drainTimeout: ({ context }) => {
        const id = context.drain?.current;
        return (id && context.specs[id]?.shutdownMs) || 0;
      },
    },
    guards: {
      thenShutdown: ({ context }) => context.drain?.after.kind === 'shutdown' || context.drain === undefined,
      thenEscalate: ({ context }) => context.drain?.after.kind === 'escalate',
      draining: ({ context }) => context.drain !== undefined,
      // A report of what the record already holds (every child reports OK on entry; spawn already told the hooks)
      // is not worth a supervisor step: that step copied the snapshot and context once more per restart.
      healthNews: ({ context, event }) => {
        const e = event as SupHealthEvent;
        const k = kidOf(context, e.id);
        return k?.liveness === 'running' && (k.health !== e.health || k.reason !== e.reason);
      },
    },
  }).createMachine({
    id: 'supervisor',
    context: () => {
      const specs = initialSpecs;
      return {
        strategy: opts.strategy,
        order: specs.map((c) => c.id),
        specs: Object.fromEntries(specs.map((c) => [c.id, c])),
        kids: {},
        restartLog: [],
        health: initialHealth(),
      };
    },
    initial: 'starting',
    output: ({ context }) => context.exit ?? { reason: 'shutdown' },
    states: {
      starting: {
        // Start children left to right, as OTP does; each is registered under its systemId at once.
        entry: act((s) => {
          for (const id of s.ctx.order) spawn(s, id, true);
        }),
        always: 'running',
      },
      running: {
        on: {
          'xstate.error.actor.*': { actions: act((s, e) => onExit(s, e as never, false)) },
          'xstate.done.actor.*': { actions: act((s, e) => onExit(s, e as never, false)) },
          'sup.health': { guard: 'healthNews', actions: act((s, e) => childHealth(s, e as SupHealthEvent)) },
          'sup.$restart': { actions: act((s, e) => restartTimer(s, e as never)) },
          'sup.restartChild': { actions: act((s, e) => cmdRestart(s, (e as { id: string }).id)) },
          'sup.terminateChild': { actions: act((s, e) => cmdTerminate(s, (e as { id: string }).id)) },
          'sup.startChild': { actions: act((s, e) => cmdStart(s, (e as { id: string }).id)) },
          'sup.addChild': { actions: act((s, e) => cmdAdd(s, (e as { spec: ChildSpec }).spec)) },
          'sup.deleteChild': { actions: act((s, e) => cmdDelete(s, (e as { id: string }).id)) },
          'sup.shutdown': { actions: act((s) => cmdShutdown(s)) },
          'sup.$next': { target: 'draining', guard: 'draining' },
        },
      },
      draining: {
        initial: 'step',
        states: {
          step: { entry: drainStep, on: { 'sup.$wait': 'waiting' } },
          waiting: { after: { drainTimeout: { target: 'step', reenter: true, actions: drainTimeout } } },
        },
        on: {
          'sup.$next': { target: '.step', reenter: true },
          'sup.$drained': [
            { guard: 'thenEscalate', target: 'escalated' },
            { guard: 'thenShutdown', target: 'stopped' },
            { target: 'running', actions: drainDone },
          ],
          'xstate.error.actor.*': { actions: drainExit },
          'xstate.done.actor.*': { actions: drainExit },
          'sup.health': { guard: 'healthNews', actions: act((s, e) => childHealth(s, e as SupHealthEvent)) },
          'sup.shutdown': { actions: act((s) => upgradeToShutdown(s)) },
        },
      },
      escalated: { type: 'final' },
      stopped: { type: 'final' },
    },
  });

  function childHealth(s: Scope, e: SupHealthEvent): string | undefined {
    const k = kidOf(s.ctx, e.id);
    if (k?.liveness !== 'running') return undefined;
    k.health = e.health;
    k.reason = e.reason;
    hooks.onHealth?.(s.ctx.specs[e.id]?.systemId ?? e.id, e.health, e.reason);
    return e.id;
  }

  function restartTimer(s: Scope, e: { ids: string[]; epochs: number[] }): void {
    // A timer from a decision an operator command has since replaced is ignored.
    e.ids.forEach((k, i) => {
      if (kidOf(s.ctx, k)?.epoch === e.epochs[i]) restartOne(s, k, false);
    });
  }

  /** Operator restart: drain the child if it runs, then start it fresh at once (clears a fail-closed start). */
  function cmdRestart(s: Scope, id: string): void {
    if (!hasChild(s.ctx, id)) return;
    const k = kidOf(s.ctx, id);
    if (!k || k.liveness === 'removed') return;
    s.ctx.kids[id] = { ...k, attempt: 0, failClosed: undefined, epoch: k.epoch + 1 };
    const then: Then = { kind: 'restart', ids: [id], delayMs: 0, reason: 'operator', fresh: true };
    if (k.liveness === 'running') {
      startDrain(s, [id], then);
    } else {
      s.ctx.kids[id]!.liveness = 'backoff';
      scheduleRestart(s, then);
    }
  }

  function cmdTerminate(s: Scope, id: string): void {
    if (!hasChild(s.ctx, id)) return;
    const k = kidOf(s.ctx, id);
    if (!k) return;
    if (k.liveness === 'backoff') {
      s.ctx.kids[id] = { ...k, liveness: 'stopped', epoch: k.epoch + 1 };
      hooks.onChildStopped?.(id);
      return;
    }
    if (k.liveness === 'running') startDrain(s, [id], { kind: 'terminate' });
  }

  function cmdStart(s: Scope, id: string): void {
    if (!hasChild(s.ctx, id)) return;
    const k = kidOf(s.ctx, id);
    if (k && k.liveness !== 'stopped' && k.liveness !== 'removed') return;
    spawn(s, id, true);
  }

  function cmdAdd(s: Scope, spec: ChildSpec): void {
    if (typeof spec?.id !== 'string' || spec.id === '__proto__' || hasChild(s.ctx, spec.id)) return;
    if (!Object.hasOwn(logics, spec.src)) return;
    const r = resolveSpec(spec);
    s.ctx.specs[r.id] = r;
    s.ctx.order.push(r.id);
    spawn(s, r.id, true);
  }

  function cmdDelete(s: Scope, id: string): void {
    if (!hasChild(s.ctx, id)) return;
    const k = kidOf(s.ctx, id);
    if (k && k.liveness !== 'stopped' && k.liveness !== 'removed') return;
    delete s.ctx.kids[id];
    delete s.ctx.specs[id];
    s.ctx.order = s.ctx.order.filter((x) => x !== id);
  }

  function cmdShutdown(s: Scope): void {
    for (const k of s.ctx.order) if (s.ctx.kids[k]?.liveness === 'backoff') mark(s, k, 'stopped');
    const live = s.ctx.order.filter((k) => s.ctx.kids[k]?.liveness === 'running');
    startDrain(s, live, { kind: 'shutdown' });
  }

  function upgradeToShutdown(s: Scope): void {
    const d = s.ctx.drain;
    if (!d || d.after.kind === 'shutdown' || d.after.kind === 'escalate') return;
    const live = s.ctx.order.filter(
      (k) => s.ctx.kids[k]?.liveness === 'running' && k !== d.current && !d.queue.includes(k),
    );
    for (const k of s.ctx.order) if (s.ctx.kids[k]?.liveness === 'backoff') mark(s, k, 'stopped');
    d.queue = [...d.queue, ...live].sort((a, b) => s.ctx.order.indexOf(b) - s.ctx.order.indexOf(a));
    d.after = { kind: 'shutdown' };
  }
}

export type SupervisorLogic = ReturnType<typeof createSupervisor>;
