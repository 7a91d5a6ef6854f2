import { type AnyActorLogic, type AnyActorRef, createActor } from 'xstate';
import { makeConfigWatcher, type OpsConfig } from '../actors/config.actors.js';
import { makeHeartbeatTicker } from '../actors/heartbeat.actors.js';
import type { ConfigFileSpec } from '../config/file-watcher.js';
import { AppError, errorMessage } from '../domain/errors.js';
import { actorId, parseActorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import { configMachine } from '../machines/config.machine.js';
import {
  effectiveState,
  type GovernanceInput,
  type GovernanceState,
  governanceMachine,
  scopeOf,
  TRADING_RANK,
  withScope,
} from '../machines/governance.machine.js';
import type { Health } from '../machines/health.js';
import { heartbeatMachine } from '../machines/heartbeat.machine.js';
import { HEALTH_VALUE, type Metrics } from '../metrics/metrics.js';
import { describe, findNode, isSupervisorContext, sanitize } from './describe.js';
import { createHealthHistory } from './health-history.js';
import { createInspectionHub } from './inspection-hub.js';
import { type MachineGraph, machineGraph } from './machine-graph.js';
import type { ChildSpec } from './policy.js';
import { indexSystemIds } from './reap.js';
import type {
  ActorNode,
  CommandResult,
  GovernanceView,
  InspectListener,
  InspectOptions,
  MachineCatalog,
  RuntimePort,
  TradingCommand,
  TradingState,
} from './runtime-port.js';
import {
  createSupervisor,
  hasChild,
  SUPERVISOR_COMMANDS,
  type SupervisorContext,
  type SupervisorHooks,
} from './supervisor.js';
import { createTransitionHistory, type OnTransition, watchTransitions } from './transition-history.js';

/** The durable key/value the runtime needs (the LMDB `kv` database in production). */
export interface KvPort {
  get(key: string): unknown;
  put(key: string, value: unknown): Promise<unknown>;
}

export interface RuntimeOptions {
  tradingEnabled: boolean;
  heartbeatMs: number;
  maxLoopDelayMs: number;
  restartIntensity: number;
  restartPeriodMs: number;
  shutdownTimeoutMs: number;
}

/** A subtree a later layer (venues, risk, scanner…) hangs under the root, with the logics it spawns. */
export interface SubtreeProvider {
  spec: ChildSpec;
  logics: Record<string, AnyActorLogic>;
  /** Events an operator may send to actors of these kinds, by kind. */
  allowedEvents?: Record<string, readonly string[]>;
}

export interface RuntimeDeps {
  options: RuntimeOptions;
  log: Logger;
  metrics: Metrics;
  kv: KvPort;
  now?: () => number;
  clock?: {
    setTimeout: (fn: (...args: unknown[]) => void, ms: number) => unknown;
    clearTimeout: (id: unknown) => void;
  };
  random?: () => number;
  subtrees?: (hooks: SupervisorHooks) => SubtreeProvider[];
  /** Extra `/status` fields (balances per venue once account actors exist). */
  statusExtras?: () => Record<string, unknown>;
  /** Health transitions are journaled here (not awaited: they back no acknowledgement). */
  journal?: { append(entry: { type: string; [k: string]: unknown }): Promise<unknown> };
  /** The hot-reloaded operator files; the config actor is part of core when given. */
  opsFiles?: { specs: readonly ConfigFileSpec[]; pollMs: number; ops: OpsConfig };
  /** Called when the root escalates or errors: the process must halt trading durably and exit. */
  onFatal: (reason: string, error?: unknown) => void;
  /** Every published trading state (after persistence for a loosening): the engine cancels resting orders on a halt. */
  onGovernance?: (g: GovernanceState) => void;
  /**
   * Awaited after a tightening is durable, before `setTrading` resolves: the engine waits for creates already
   * handed to a venue, so once a kill is acknowledged no new order can still reach a venue.
   */
  afterTighten?: () => Promise<void>;
  /** Every health edge of an actor (not the first OK report at spawn): the notifier alerts on these. */
  onHealthTransition?: (actor: string, health: Health, reason: string) => void;
  /** More children of `core` (the notifier), started after governance and heartbeat. */
  core?: { children: ChildSpec[]; logics: Record<string, AnyActorLogic> };
}

export interface Runtime extends RuntimePort {
  start(): Promise<void>;
  /** Marks boot recovery finished (`/readyz` turns 200). */
  markReady(): void;
  shutdown(): Promise<void>;
  root(): AnyActorRef;
  /** Whether XState inspection is attached and for how many listeners (tests, diagnostics). */
  inspection(): { attached: boolean; listeners: number };
  /** Resolves when every trading actor has been told the latest governance state (tests, benchmarks). */
  governanceDelivered(): Promise<void>;
}

const GOV_KEY = 'governance';
/** Symbol and other trading actors listen for the effective trading state under this prefix. */
const TRADING_PREFIXES = ['sym:'];
/** Trading actors told of a governance change per event-loop turn (see `broadcastToLeaves`). */
const BROADCAST_CHUNK = 100;

/**
 * Builds the supervised tree from config and exposes it through the RuntimePort (DESIGN §3). Governance
 * state is persisted in LMDB before a loosening takes effect and right after a tightening, and a restarted
 * governance actor always starts from the latest persisted state.
 */
export function createRuntime(deps: RuntimeDeps): Runtime {
  const { log, metrics, options } = deps;
  const now = deps.now ?? Date.now;
  let ready = false;
  let stopping = false;
  let rootRef: AnyActorRef | undefined;
  /** The trading actors, kept by the actor system's registry itself (set at start). */
  let tradingActors: ReadonlyMap<string, AnyActorRef> = new Map();
  let rootHealth: { value: Health; reason: string } = { value: 'OK', reason: '' };
  const allowed = new Map<string, readonly string[]>();

  // Mutable on purpose: the supervisor keeps this object as the governance child's input, so a fresh restart
  // (operator restart, one_for_all sibling restart) starts from the latest durable state, never the boot one.
  const govInput: GovernanceInput = {
    persisted: deps.kv.get(GOV_KEY) as GovernanceState | undefined,
    tradingEnabled: options.tradingEnabled,
    now: now(),
  };
  let govCache: GovernanceState | undefined;

  const healthLog = log.child({ actor: 'supervisor' });
  const lastHealth = new Map<string, string>();
  const healthHistory = createHealthHistory({ now });
  const transitionHistory = createTransitionHistory({ now });
  const onTransition: OnTransition = (id, event, from, to) => transitionHistory.record(id, event, from, to);
  const hooks: SupervisorHooks = {
    onHealth: (id, h, reason) => {
      metrics.healthState.set({ actor: id }, HEALTH_VALUE[h]);
      const key = `${h}|${reason}`;
      if (lastHealth.get(id) !== key) {
        const first = !lastHealth.has(id);
        lastHealth.set(id, key);
        healthHistory.record(id, h, reason);
        if (!first || h !== 'OK') {
          deps.journal?.append({ type: 'health', actor: id, health: h, reason }).catch((e: unknown) => {
            healthLog.warn({ err: errorMessage(e) }, 'could not journal a health transition');
          });
          deps.onHealthTransition?.(id, h, reason);
        }
      }
      if (id === actorId.root()) {
        if (h !== rootHealth.value) healthLog.info({ health: h, reason }, 'system health changed');
        rootHealth = { value: h, reason };
      }
    },
    onRestart: (e) => {
      metrics.supervisorRestarts.inc({ supervisor: e.supervisor, child: e.child });
      healthLog.warn(e, 'restarting child');
    },
    onEscalate: (e) => {
      metrics.supervisorEscalations.inc({ supervisor: e.supervisor });
      healthLog.error(e, 'restart intensity exceeded: escalating');
    },
    onChildExit: (e) => {
      if (e.abnormal) healthLog.warn(e, 'child exited abnormally');
    },
    // A stopped actor has no health: its last value would keep an alert firing (or quiet) for an actor that is gone.
    onChildStopped: (id) => {
      metrics.healthState.remove({ actor: id });
      lastHealth.delete(id);
      healthHistory.forget(id);
      transitionHistory.forget(id);
    },
    onTransition,
  };

  function publishGovernance(g: GovernanceState): void {
    govCache = g;
    metrics.tradingEnabled.set(g.global.state === 'ACTIVE' ? 1 : g.global.state === 'REDUCING' ? 0.5 : 0);
    metrics.tradingStateScope.set({ scope: 'global' }, TRADING_RANK[g.global.state]);
    for (const [v, s] of Object.entries(g.venues))
      metrics.tradingStateScope.set({ scope: `venue:${v}` }, TRADING_RANK[s.state]);
    for (const [k, s] of Object.entries(g.symbols))
      metrics.tradingStateScope.set({ scope: `symbol:${k}` }, TRADING_RANK[s.state]);
    deps.onGovernance?.(g);
    broadcastToLeaves(g);
  }

  /**
   * The trading actors learn the new state in chunks of BROADCAST_CHUNK, one chunk per event-loop turn. The money
   * guard does not wait for them: the engine gates every order on the governance actor's state, which changed
   * synchronously before this runs, so a kill is in force (and its answer can be sent once durable) while the
   * leaves, whose state is what the inspector shows and a first filter on signals, catch up within a few turns.
   * One XState event per leaf costs 10-30 µs here, so delivering 1,000 in one turn held every reply, commit
   * completion and tick behind ~20 ms of CPU. A newer broadcast supersedes an unfinished one: it carries the whole
   * governance state, so it walks every actor again from the start.
   */
  let broadcastGen = 0;
  let broadcastDone: Promise<void> = Promise.resolve();
  function broadcastToLeaves(g: GovernanceState): void {
    const gen = ++broadcastGen;
    const event = { type: 'gov.trading', governance: g };
    // A copy: an actor that crashes on the event and restarts at once re-registers, and must not get it again.
    const refs = Array.from(tradingActors.values());
    broadcastDone = new Promise<void>((resolve) => {
      let i = 0;
      const step = () => {
        if (gen !== broadcastGen) return resolve();
        const end = Math.min(refs.length, i + BROADCAST_CHUNK);
        for (; i < end; i++) {
          const ref = refs[i] as AnyActorRef;
          if (ref.getSnapshot().status === 'active') ref.send(event);
        }
        if (i < refs.length) setImmediate(step);
        else resolve();
      };
      setImmediate(step);
    });
  }

  const governance = governanceMachine.provide({
    actions: {
      'gov.publish': ({ context }) =>
        publishGovernance({ global: context.global, venues: context.venues, symbols: context.symbols }),
    },
  });
  const heartbeat = heartbeatMachine.provide({ actors: { ticker: makeHeartbeatTicker(metrics, options.heartbeatMs) } });

  const supervisorDefaults = {
    now,
    random: deps.random,
    hooks,
    backoff: { minMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 60_000, immediateFirst: true },
  };
  const config = deps.opsFiles
    ? configMachine.provide({
        actors: {
          watcher: makeConfigWatcher({ ...deps.opsFiles, metrics, log, now }),
        },
      })
    : undefined;
  const core = createSupervisor({
    ...supervisorDefaults,
    strategy: 'one_for_all',
    intensity: options.restartIntensity,
    periodMs: options.restartPeriodMs,
    logics: { governance, heartbeat, ...(config ? { config } : {}), ...deps.core?.logics },
    children: [
      ...(config ? [{ id: actorId.config(), src: 'config', critical: false, shutdownMs: 1_000 }] : []),
      { id: actorId.governance(), src: 'governance', input: govInput, flavour: 'guard', shutdownMs: 0 },
      {
        id: actorId.heartbeat(),
        src: 'heartbeat',
        input: { maxLoopDelayMs: options.maxLoopDelayMs },
        critical: false,
        shutdownMs: 0,
      },
      ...(deps.core?.children ?? []),
    ],
  });
  const subtrees = deps.subtrees?.(hooks) ?? [];
  for (const st of subtrees) for (const [k, v] of Object.entries(st.allowedEvents ?? {})) allowed.set(k, v);
  const root = createSupervisor({
    ...supervisorDefaults,
    strategy: 'one_for_one',
    intensity: options.restartIntensity,
    periodMs: options.restartPeriodMs,
    logics: { core, ...Object.fromEntries(subtrees.flatMap((s) => Object.entries(s.logics))) },
    children: [
      { id: actorId.core(), src: 'core', shutdownMs: options.shutdownTimeoutMs },
      ...subtrees.map((s) => s.spec),
    ],
  });

  function requireRoot(): AnyActorRef {
    if (!rootRef) throw new AppError('NOT_READY', 'runtime not started');
    return rootRef;
  }

  function tree(): ActorNode {
    return describe(requireRoot());
  }

  const hub = createInspectionHub({ root: requireRoot, tree, now });

  // Graphs per machine object (a `.provide()`d machine is a new object with the same definition), keyed by the
  // machine's id; a second, different machine with the same id gets `id#2`.
  const graphs = new WeakMap<object, string | null>();
  const byKey = new Map<string, { graph: MachineGraph; json: string }>();
  function graphKey(logic: object): string | null {
    const known = graphs.get(logic);
    if (known !== undefined) return known;
    const graph = machineGraph(logic);
    let key: string | null = null;
    if (graph) {
      const json = JSON.stringify(graph);
      for (let n = 1; key === null; n++) {
        const k = n === 1 ? graph.id : `${graph.id}#${n}`;
        const seen = byKey.get(k);
        if (!seen) byKey.set(k, { graph, json });
        if (!seen || seen.json === json) key = k;
      }
    }
    graphs.set(logic, key);
    return key;
  }
  function machines(): MachineCatalog {
    const all = requireRoot().system.getAll() as Record<string, AnyActorRef>;
    const actors: Record<string, string> = {};
    const used: Record<string, MachineGraph> = {};
    for (const [id, ref] of Object.entries(all)) {
      const key = graphKey((ref as unknown as { logic: object }).logic);
      if (key === null) continue;
      actors[id] = key;
      used[key] = (byKey.get(key) as { graph: MachineGraph }).graph;
    }
    return { machines: used, actors };
  }

  function governanceView(): GovernanceView {
    const ref = rootRef?.system.get(actorId.governance()) as AnyActorRef | undefined;
    const ctx = ref?.getSnapshot().status === 'active' ? (ref.getSnapshot().context as GovernanceState) : undefined;
    const g = ctx ?? govCache ?? govInput.persisted;
    if (!g) throw new AppError('NOT_READY', 'governance not started');
    return { global: g.global, venues: g.venues, symbols: g.symbols };
  }

  /** Finds the supervisor that holds a child with this systemId, and the child's spec id there. */
  /**
   * Resolves an operator command to its effect without running it, so the HTTP layer can refuse, audit, then
   * act (the audit record is committed before the effect, and a refused command has none).
   */
  function planCommand(
    id: string,
    event: { type: string; [k: string]: unknown },
  ): { error: NonNullable<CommandResult['error']> } | { run: () => void } {
    if (!allowedEventsOf(id).includes(event.type))
      return { error: { code: 'BAD_REQUEST', message: `event '${event.type}' is not allowed for ${id}` } };
    const ref = rootRef?.system.get(id) as AnyActorRef | undefined;
    const supCtx = ref?.getSnapshot().context;
    if (event.type.startsWith('sup.') && ref && isSupervisorContext(supCtx) && event.id !== undefined) {
      // A command naming one of this supervisor's children: only an own child id, never a prototype member.
      if (!hasChild(supCtx, event.id))
        return { error: { code: 'NOT_FOUND', message: `'${id}' has no child '${String(event.id).slice(0, 100)}'` } };
      const childId = event.id;
      return { run: () => ref.send({ type: event.type, id: childId }) };
    }
    if (event.type.startsWith('sup.')) {
      // A supervisor command aimed at a child goes to the child's supervisor with the child's spec id.
      const p = parentOf(id);
      if (!p) return { error: { code: 'NOT_FOUND', message: `no supervised actor '${id}'` } };
      return { run: () => p.sup.send({ type: event.type, id: p.childId }) };
    }
    if (!ref) {
      const known = findNode(tree(), id);
      return known
        ? { error: { code: 'ACTOR_UNAVAILABLE', message: `actor '${id}' is ${known.liveness}` } }
        : { error: { code: 'NOT_FOUND', message: `no actor '${id}'` } };
    }
    return { run: () => ref.send(event) };
  }

  function allowedEventsOf(id: string): readonly string[] {
    const ref = rootRef?.system.get(id) as AnyActorRef | undefined;
    const isSup = ref ? isSupervisorContext(ref.getSnapshot().context) : false;
    const base = isSup ? [...SUPERVISOR_COMMANDS] : ['sup.restartChild', 'sup.terminateChild', 'sup.startChild'];
    return [...base, ...(allowed.get(parseActorId(id).kind) ?? [])];
  }

  function parentOf(systemId: string): { sup: AnyActorRef; childId: string } | undefined {
    const walk = (ref: AnyActorRef): { sup: AnyActorRef; childId: string } | undefined => {
      const ctx = ref.getSnapshot().context as SupervisorContext | undefined;
      if (!isSupervisorContext(ctx)) return undefined;
      for (const id of ctx.order) if (ctx.specs[id]?.systemId === systemId) return { sup: ref, childId: id };
      const children = ref.getSnapshot().children as Record<string, AnyActorRef | undefined>;
      for (const c of Object.values(children)) {
        const f = c && walk(c);
        if (f) return f;
      }
      return undefined;
    };
    return walk(requireRoot());
  }

  async function persistGovernance(g: GovernanceState): Promise<void> {
    try {
      await deps.kv.put(GOV_KEY, g);
    } catch (e) {
      metrics.storeCommitErrors.inc();
      deps.onFatal('governance_persist_failed', e);
      throw new AppError('STORE_FAILED', `could not persist trading state: ${errorMessage(e)}`, { cause: e });
    }
    govInput.persisted = g;
  }

  return {
    async start() {
      const a = createActor(watchTransitions(root, onTransition), {
        id: actorId.root(),
        systemId: actorId.root(),
        ...(deps.clock ? { clock: deps.clock } : {}),
      });
      rootRef = a;
      // Before start: every child registers as it spawns.
      tradingActors = indexSystemIds(a.system, (id) => TRADING_PREFIXES.some((p) => id.startsWith(p)));
      a.subscribe({
        next: () => {},
        error: (e) => deps.onFatal('root_error', e),
        complete: () => {
          if (!stopping) deps.onFatal('root_exit', a.getSnapshot().output);
        },
      });
      a.start();
      const g = governanceView();
      // Boot state is durable before anything can trade: a crash right now restarts exactly as halted.
      if (JSON.stringify(g) !== JSON.stringify(govInput.persisted)) await persistGovernance(g);
      publishGovernance(g);
      metrics.actorCount.set(Object.keys(a.system.getAll()).length);
    },
    markReady() {
      ready = true;
    },
    async shutdown() {
      if (!rootRef || stopping) return;
      stopping = true;
      const ref = rootRef;
      await new Promise<void>((resolve) => {
        if (ref.getSnapshot().status !== 'active') return resolve();
        const sub = ref.subscribe({ next: () => {}, error: () => resolve(), complete: () => resolve() });
        ref.send({ type: 'sup.shutdown' });
        if (ref.getSnapshot().status !== 'active') {
          sub.unsubscribe();
          resolve();
        }
      });
      (ref as unknown as { stop(): void }).stop();
    },
    root: requireRoot,
    ready: () => ready,
    health: () => rootHealth,
    tree,
    actor(id, withContext) {
      const node = findNode(tree(), id);
      if (!node) return undefined;
      const ref = rootRef?.system.get(id) as AnyActorRef | undefined;
      return withContext && ref ? { ...node, context: sanitize(ref.getSnapshot().context) } : node;
    },
    allowedEvents: allowedEventsOf,
    send(id, event): CommandResult {
      const p = planCommand(id, event);
      if ('error' in p) return { accepted: false, error: p.error };
      p.run();
      return { accepted: true };
    },
    check(id, event): CommandResult {
      const p = planCommand(id, event);
      return 'error' in p ? { accepted: false, error: p.error } : { accepted: true };
    },
    governance: governanceView,
    async setTrading(cmd: TradingCommand) {
      if (cmd.scope !== 'global' && !cmd.key) throw new AppError('BAD_REQUEST', `scope '${cmd.scope}' needs a key`);
      const before = governanceView();
      const at = now();
      const entry = { state: cmd.state, reason: cmd.reason, by: cmd.actor, at, command: cmd.command };
      const next = withScope(before, cmd.scope, cmd.key, entry);
      const prev = scopeOf(before, cmd.scope, cmd.key);
      const loosening = TRADING_RANK[cmd.state] < TRADING_RANK[prev?.state ?? 'ACTIVE'];
      const event = { type: 'gov.set' as const, scope: cmd.scope, key: cmd.key, ...entry };
      const ref = rootRef?.system.get(actorId.governance()) as AnyActorRef | undefined;
      // Fail closed: a loosening is durable before it takes effect; a tightening takes effect at once.
      if (loosening) await persistGovernance(next);
      if (ref) ref.send(event);
      else publishGovernance(next);
      if (!loosening) {
        await persistGovernance(next);
        await deps.afterTighten?.();
      }
      return governanceView();
    },
    effectiveTrading(venue?: string, symbol?: string): TradingState {
      return effectiveState(governanceView(), venue, symbol);
    },
    statusExtras: () => deps.statusExtras?.() ?? {},
    inspect: (listener: InspectListener, opts?: InspectOptions) => hub.add(listener, opts),
    machines,
    healthHistory: (id: string) => healthHistory.list(id),
    transitions: (id: string) => transitionHistory.list(id),
    inspection: () => ({ attached: hub.attached(), listeners: hub.listenerCount() }),
    async governanceDelivered() {
      // A broadcast started while this one was awaited supersedes it; wait for the newest.
      let seen: Promise<void> | undefined;
      while (seen !== broadcastDone) {
        seen = broadcastDone;
        await seen;
      }
    },
  };
}
