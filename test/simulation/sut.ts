import { recoverBooks } from '../../src/actors/engine/boot-recovery.js';
import { cancelOwnEntries } from '../../src/actors/engine/halt-cancel.js';
import { createHaltWatch } from '../../src/actors/engine/halt-watch.js';
import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';
import { createLedgerBook, type LedgerBook } from '../../src/actors/ledger-book.js';
import { createPerpBook, type PerpBook } from '../../src/actors/perp-book.js';
import { createPortfolioSnapshots } from '../../src/actors/portfolio-snapshots.js';
import { createTradingEngine, type EngineLimits, type TradingEngine } from '../../src/actors/trading-engine.js';
import type { VenueId } from '../../src/domain/ids.js';
import type { Logger } from '../../src/logging/logger.js';
import type { GovernanceState, TradingState } from '../../src/machines/governance.machine.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createRng } from '../../src/strategies/seeded-random.js';
import type { OperatorOrderRequest, OperatorOrderResult, ReconcileResult } from '../../src/supervisor/trading-port.js';
import { binanceQuirks } from '../../src/venues/binance.quirks.js';
import {
  BINANCE_LIMITS,
  type BosunGateway,
  CcxtGateway,
  CompositeGateway,
  RateBudget,
} from '../../src/venues/index.js';
import type { ApiKeyPair, Simulator } from '../../src/venues/sim/index.js';
import type { CreateOrderRequest } from '../../src/venues/venue-gateway.js';
import { type CrashGate, createCrashGate } from './crash-gate.js';
import { createViews, type SutViews, type ViewsDeps } from './sut-views.js';

/**
 * The system under test, one incarnation of it: the real trading engine, LMDB store and ledger book over the real
 * ccxt gateway to the simulator, composed the way `trading.actors.ts` composes them, and boot recovery as its
 * `recoverBooks` runs it, the halt watch and the fatal path's cancel as trading.actors.ts and main.ts wire them.
 * This is the ONE file that knows how the engine's modules fit together.
 */

export type Scope =
  | { kind: 'global' }
  | { kind: 'venue'; venue: string }
  | { kind: 'symbol'; venue: string; symbol: string };

/** What governance says, per scope (the harness owns it: it is the model behind EngineInputs.trading). */
export interface GovernanceView {
  global: TradingState;
  venues: Record<string, TradingState>;
  /** `venue:SYMBOL` → state. */
  symbols: Record<string, TradingState>;
}

/** The harness side of an incarnation: what it observes and the models it owns. */
export interface SutEnv {
  sim: Simulator;
  venue: VenueId;
  keys: ApiKeyPair;
  symbols: readonly string[];
  node: string;
  limits: EngineLimits;
  minTradeUsdt: number;
  metrics: Metrics;
  log: Logger;
  /** Engine and gateway clock (the simulator's manual clock: accept windows and retries follow sim time). */
  now: () => number;
  governance(): GovernanceView;
  /** Reconciliation asked to halt a venue (durably: the harness's governance model records it). */
  haltVenue(venue: string, reason: string): void;
  /** The stop validator's book (the harness places protective stops itself). */
  stops: {
    owns(venue: string, o: { id: string | null; clientOrderId: string | null }): boolean;
    release(venue: string, symbol: string, gateway: BosunGateway): Promise<void>;
  };
  /** A create handed to the venue by incarnation `inc` (I2/I3 are judged here). */
  onCreate(inc: Incarnation, req: CreateOrderRequest): void;
  /** An intent journaled by `inc`: the order was decided (sized, passed the rails, reserved) just now (I1). */
  onIntent?(inc: Incarnation, clientOrderId: string): void;
  onCrash(inc: Incarnation): void;
  /** The parts around the engine that I9–I12 read (sut-views.ts); absent: not composed. */
  views?: Pick<ViewsDeps, 'governance' | 'setTrading' | 'stillNeeded' | 'stopValidator'> & {
    /** The depeg guard is tripped (the engine's `guards` input). */
    depeg(): boolean;
    /** The funding guard sees a spike on this symbol's perpetual (the engine's `guards` input, perpetuals). */
    fundingSpike(symbol: string): boolean;
  };
  /** A venue call answered by incarnation `inc` (before the engine sees it). */
  onAnswer?(inc: Incarnation, name: string, args: readonly unknown[]): void;
  /** A reconciliation of `inc` finished (boot's, or one the harness asked for). */
  onReconciled?(inc: Incarnation, result: ReconcileResult): void;
  /** Perpetuals on (a schedule with perpetual steps): a USDⓈ-M member, the perp book, PERP_* settings. */
  perps?: PerpSettings;
}

/** Operator order with the client's Idempotency-Key. */
export type OperatorRequest = OperatorOrderRequest;

export interface Incarnation {
  readonly id: number;
  readonly engine: TradingEngine;
  readonly store: Store;
  readonly book: LedgerBook;
  /** The perp book (perpetuals on only). */
  readonly perps: PerpBook | undefined;
  readonly gate: CrashGate;
  /** `/status`, `GET /orders`, the depeg exit and the system's REDUCING (when `env.views` is given). */
  readonly views: SutViews | undefined;
  /** Boot recovery, started at creation; resolves when its reconciliation has finished (or the process died). */
  readonly boot: Promise<void>;
  /** True once boot reconciliation has finished without error for the venue (I3). */
  readonly reconciled: boolean;
  /** Resolves when this incarnation dies (crash, fatal path); never rejects. */
  readonly dead: Promise<void>;
  readonly alive: boolean;
  /** Venue calls forwarded and unanswered plus store writes issued and uncommitted. */
  busy(): number;
  /** Resolves when the store writes issued so far have committed (or failed). */
  written(): Promise<void>;
  signal(symbol: string, price: number, signal: number): void;
  submitOperator(req: OperatorRequest): Promise<OperatorOrderResult>;
  /** Governance changed: cancel resting entries in newly HALTED scopes (trading.actors.ts `onGovernance`). */
  onGovernance(): void;
  reconcile(): Promise<ReconcileResult | undefined>;
  /** The fatal path (main.ts `emergencyCancel`, then exit). */
  fatal(): Promise<void>;
  /** kill -9: the gateway goes silent, the store is closed, nothing of this incarnation runs on. */
  crash(): Promise<void>;
}

let incarnations = 0;

/** Starts one incarnation on the state directory `dir` and begins its boot recovery. */
export async function startIncarnation(env: SutEnv, dir: string): Promise<Incarnation> {
  const id = ++incarnations;
  const store = await openStore({ dir, now: env.now, durability: 'committed' });
  // main.ts's paper gateway (createGateway) without its USDⓈ-M member: the engine trades spot here, and a second
  // ccxt instance per incarnation would double the cost of every restart.
  // The budget's clock is the engine's (sim time, with the harness's skew) plus what its own waits slept: a 429's
  // ban ends when the schedule's time moves past it (quiescence moves a minute), not after a minute of wall time
  // the whole run never takes; a wait on the budget takes (almost) no wall time, like every other wait here.
  let budgetWaited = 0;
  const budget = new RateBudget({
    limits: BINANCE_LIMITS,
    clock: {
      now: () => env.now() + budgetWaited,
      sleep: (ms) => {
        budgetWaited += ms;
        return new Promise((r) => setTimeout(r, Math.min(ms, 2)));
      },
    },
  });
  const member = (kind: 'spot' | 'linear') =>
    new CcxtGateway({
      mode: 'paper',
      simBaseUrl: env.sim.baseUrl,
      apiKey: env.keys.apiKey,
      secret: env.keys.secret,
      now: env.now,
      timeoutMs: 1_000,
      maxBudgetWaitMs: 0,
      budget,
      quirks: binanceQuirks(kind),
    });
  // The USDⓈ-M member only when the schedule trades perpetuals (its markets load costs every restart).
  const inner = new CompositeGateway(
    env.venue,
    env.perps ? [member('spot'), member('linear')] : [member('spot')],
    budget,
  );
  let self: Incarnation | undefined;
  let alive = true;
  let reconciled = false;
  let markDead: () => void = () => {};
  const dead = new Promise<void>((r) => {
    markDead = r;
  });
  const gate = createCrashGate(inner, {
    onCreate: (req) => {
      if (self) env.onCreate(self, req);
    },
    onCrash: () => {
      if (self) void self.crash();
    },
    ...(env.onAnswer
      ? {
          onAnswer: (name: string, args: readonly unknown[]) => {
            if (self) env.onAnswer?.(self, name, args);
          },
        }
      : {}),
  });
  // Writes the engine has issued and LMDB has not committed yet: part of "something is in flight" (`busy`).
  const writing = new Set<Promise<unknown>>();
  const counted = <T>(p: Promise<T>): Promise<T> => {
    const q = p.finally(() => {
      writing.delete(q);
    });
    writing.add(q);
    return q;
  };
  const orders: typeof store.orders = {
    put: (o) => {
      if (o.status === 'intent' && self) env.onIntent?.(self, o.clientOrderId);
      return counted(store.orders.put(o));
    },
    get: (cid) => store.orders.get(cid),
    listOpen: () => store.orders.listOpen(),
    list: () => store.orders.list(),
  };
  const journal: typeof store.journal = {
    append: (e) => counted(store.journal.append(e)),
    readFrom: (from) => store.journal.readFrom(from),
    lastSeq: () => store.journal.lastSeq(),
    rebuildMirrors: () => store.journal.rebuildMirrors(),
  };
  let viewsRef: SutViews | undefined;
  const book = createLedgerBook(store.portfolio, [env.venue]);
  const perps = env.perps ? createPerpBook(store.portfolio, [env.venue]) : undefined;
  const tradingOf = (venue: string, symbol: string) => {
    const g = env.governance();
    return {
      global: g.global,
      venue: g.venues[venue] ?? 'ACTIVE',
      symbol: g.symbols[`${venue}:${symbol}`] ?? 'ACTIVE',
    };
  };
  const engine = createTradingEngine({
    node: env.node,
    venues: [{ id: env.venue, gateway: gate.gateway }],
    symbols: { [env.venue]: env.symbols },
    journal,
    orders,
    kv: store.kv,
    book,
    ...(perps && env.perps ? { perps, perp: env.perps } : {}),
    // Waits take (almost) no wall time, and a dead incarnation's never end: nothing of it runs on after a crash.
    sleep: (ms) => (alive ? new Promise((r) => setTimeout(r, Math.min(ms, 2))) : new Promise(() => {})),
    random: (() => {
      const rng = createRng(id);
      return () => rng.next();
    })(),
    metrics: env.metrics,
    log: env.log,
    now: env.now,
    hr: () => performance.now(),
    minTradeUsdt: env.minTradeUsdt,
    notify: () => {},
    inputs: {
      trading: tradingOf,
      limits: () => env.limits,
      policyAllowed: () => true,
      allocations: () => ({ reserve_pct: 0 }),
      equityBreaker: () => ({ tripped: false, reason: '' }),
      // Auto-cutback's multiplier (sut-views.ts composes the allocator guards as trading.actors.ts does).
      sizeScale: () => viewsRef?.sizeScale() ?? 1,
      venueBreaker: () => ({ tripped: false, reason: '' }),
      guards: (_venue, symbol, market) => ({
        depegActive: env.views?.depeg() ?? false,
        fundingSpike: market === 'linear' && (env.views?.fundingSpike(symbol) ?? false),
      }),
      haltVenue: async (venue, reason) => {
        env.haltVenue(venue, reason);
      },
    },
    stops: {
      owns: (venue, o) => env.stops.owns(venue, o),
      release: (venue, symbol) => env.stops.release(venue, symbol, gate.gateway as BosunGateway),
    },
  });

  // trading.actors.ts's halt watch: a new HALTED or REDUCING scope cancels the resting entries it refuses.
  const haltWatch = createHaltWatch({
    accepting: () => engine.accepting(),
    cancelRefused: () => engine.cancelRefused(),
    log: env.log,
  });
  const scope = (state: TradingState) => ({ state, reason: 'sim', by: 'sim', at: 0, command: 'sim' });
  function onGovernance(): void {
    const g = env.governance();
    haltWatch({
      global: scope(g.global),
      venues: Object.fromEntries(Object.entries(g.venues).map(([k, v]) => [k, scope(v)])),
      symbols: Object.fromEntries(Object.entries(g.symbols).map(([k, v]) => [k, scope(v)])),
    } as unknown as GovernanceState);
  }

  // Boot recovery exactly as trading.actors.ts runs it (engine/boot-recovery.ts). I3 is judged against the moment
  // its reconciliation resolved without error, seen through a proxy of the engine.
  const observed = Object.create(engine, {
    reconcileAll: {
      value: async () => {
        const r = await engine.reconcileAll();
        if (r.venues[env.venue]?.error === undefined) reconciled = true;
        if (self) env.onReconciled?.(self, r);
        return r;
      },
    },
  }) as TradingEngine;
  async function recover(): Promise<void> {
    await recoverBooks({
      engine: observed,
      book,
      store,
      venues: [{ id: env.venue, gateway: gate.gateway }],
      portfolio: createPortfolioSnapshots({
        path: `${dir}/portfolio.json`,
        store,
        book,
        prices: () => ({}),
        now: env.now,
      }),
      metrics: env.metrics,
      log: env.log,
      now: env.now,
      sleep: (ms) => (alive ? new Promise((r) => setTimeout(r, Math.min(ms, 2))) : new Promise(() => {})),
    });
  }

  let closing: Promise<void> | undefined;
  function crash(): Promise<void> {
    closing ??= (async () => {
      alive = false;
      gate.crash();
      markDead();
      env.onCrash(self as Incarnation);
      await store.close().catch(() => {});
      // Let a request already on the wire land, then drop the connections.
      void gate.drained().then(() => inner.close().catch(() => {}));
    })();
    return closing;
  }

  onGovernance();
  const views =
    env.views &&
    createViews({
      kv: store.kv,
      now: env.now,
      ...env.views,
      venue: env.venue,
      engine,
      book,
      orders: store.orders,
      gateway: gate.gateway,
      limits: env.limits,
      minTradeUsdt: env.minTradeUsdt,
      metrics: env.metrics,
      log: env.log,
    });
  viewsRef = views || undefined;
  const inc: Incarnation = {
    id,
    engine,
    store,
    book,
    perps,
    gate,
    views,
    boot: Promise.resolve(),
    get reconciled() {
      return reconciled;
    },
    dead,
    get alive() {
      return alive;
    },
    busy: () => gate.pending() + writing.size,
    written: async () => {
      await Promise.allSettled([...writing]);
    },
    signal(symbol, price, signal) {
      engine.onSignal({
        venue: env.venue,
        symbol,
        price,
        at: env.now(),
        t0: performance.now(),
        trading: 'ACTIVE',
        output: {
          hmm: { signal: 0, confidence: 0 } as never,
          trend: signal,
          trendFired: false,
          signal,
          strategy: 'trend',
          quoteMultiplier: 1,
          cooldownScale: 1,
        } as never,
      });
    },
    submitOperator: (req) => engine.submitOperator(req),
    onGovernance,
    async reconcile() {
      const r = await engine.reconcileAll();
      if (r.venues[env.venue]?.error === undefined && engine.accepting()) reconciled = true;
      env.onReconciled?.(inc, r);
      return r;
    },
    async fatal() {
      // main.ts's fatal path: Bosun's own entries by clientOrderId from LMDB, never the venue's cancel-all.
      await cancelOwnEntries(store.orders, new Map([[env.venue, gate.gateway]]), env.log).catch(() => 0);
      await crash();
    },
    crash,
  };
  self = inc;
  (inc as { boot: Promise<void> }).boot = Promise.race([
    recover().catch(() => {
      // A boot that cannot finish exits the process (main.ts): the supervisor restarts it.
      void crash();
    }),
    dead,
  ]);
  return inc;
}
