import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { EngineLimits, EngineVenue } from '../../src/actors/engine/engine-types.js';
import type { PerpSettings } from '../../src/actors/engine/perp-settlement.js';
import { createLedgerBook, type LedgerBook } from '../../src/actors/ledger-book.js';
import { createPerpBook, type PerpBook } from '../../src/actors/perp-book.js';
import { createTradingEngine, type TradingEngine } from '../../src/actors/trading-engine.js';
import type { TradingState } from '../../src/domain/trading-state.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { type KvStore, openStore, type Store } from '../../src/store/index.js';
import { createGateway } from '../../src/venues/index.js';
import type { BudgetClock } from '../../src/venues/rate-budget.js';
import { createManualClock, type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import type { VenueGateway } from '../../src/venues/venue-gateway.js';

/**
 * The order path alone, for the money-path regression tests: the real engine, LMDB store and ledger, and the real
 * ccxt gateway against the simulator on a fresh account of its own. The test owns the governance view (a plain
 * object the engine reads through EngineInputs) and may wrap the gateway to hold or observe calls. `restart()` is
 * a crash: the engine and gateway are dropped, the same store directory is reopened, and a new engine starts.
 */
export const silent = pino({ level: 'silent' });

export const OPEN_LIMITS: EngineLimits = {
  maxNotionalUsdt: 1_000,
  maxSymbolExposureUsdt: 1e12,
  maxVenueExposureUsdt: 1e12,
  maxAssetExposureUsdt: 1e12,
  equityFloorUsd: 0,
  maxDrawdownPct: 100,
  equityCooldownSec: 0,
  orderCooldownSec: 0,
};

export interface Governance {
  global: TradingState;
  venue: TradingState;
  symbol: TradingState;
}

export interface EngineRig {
  sim: Simulator;
  keys: { apiKey: string; secret: string };
  dir: string;
  store: Store;
  book: LedgerBook;
  /** The perp book (only with `perp` in the options). */
  perps?: PerpBook;
  engine: TradingEngine;
  gateway: VenueGateway;
  gov: Governance;
  limits: EngineLimits;
  halts: string[];
  metrics: Metrics;
  close(): Promise<void>;
}

export interface RigOptions {
  spot?: Record<string, number>;
  limits?: Partial<EngineLimits>;
  /** Wraps the real gateway (hold or observe calls); the wrapper must forward to the real one. */
  wrap?: (gw: VenueGateway) => VenueGateway;
  /** Wraps the portfolio store the books write to (hold or observe commits); it must forward to the real one. */
  wrapPortfolio?: (kv: KvStore) => KvStore;
  stops?: Parameters<typeof createTradingEngine>[0]['stops'];
  random?: () => number;
  dir?: string;
  keys?: { apiKey: string; secret: string };
  gov?: Governance;
  maker?: Parameters<typeof createTradingEngine>[0]['maker'];
  /** Futures wallet of a fresh account (default none). */
  futures?: Record<string, number>;
  /** Perpetual settings: the engine gets a perp book and these PERP_* settings. */
  perp?: PerpSettings;
  /** The engine's clock (default Date.now): the backtest parity test runs it on the ticks' time. */
  now?: () => number;
  /** Where the engine tells symbol actors about their orders (default: nowhere). */
  notify?: Parameters<typeof createTradingEngine>[0]['notify'];
  symbols?: readonly string[];
  /** The clock the gateway's request budget runs on (default wall time): the parity test runs it on the ticks. */
  budgetClock?: BudgetClock;
}

export async function engineRig(sim: Simulator, o: RigOptions = {}): Promise<EngineRig> {
  const keys =
    o.keys ??
    sim.createAccount('binance', {
      spot: o.spot ?? { USDT: 100_000, BTC: 0.01, ETH: 0.1, BNB: 0.5 },
      ...(o.futures ? { futures: o.futures } : {}),
    });
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'bosun-money-'));
  const store = await openStore({ dir });
  const raw = createGateway('binance', {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    ...keys,
    ...(o.budgetClock ? { budgetClock: o.budgetClock } : {}),
  });
  await raw.loadMarkets();
  const gateway = o.wrap ? o.wrap(raw) : raw;
  const portfolio = o.wrapPortfolio ? o.wrapPortfolio(store.portfolio) : store.portfolio;
  const book = createLedgerBook(portfolio, ['binance']);
  const perps = o.perp ? createPerpBook(portfolio, ['binance']) : undefined;
  const gov: Governance = o.gov ?? { global: 'ACTIVE', venue: 'ACTIVE', symbol: 'ACTIVE' };
  const limits: EngineLimits = { ...OPEN_LIMITS, ...o.limits };
  const halts: string[] = [];
  const venues: EngineVenue[] = [{ id: 'binance', gateway }];
  const metrics = createMetrics({ defaultMetrics: false });
  const engine = createTradingEngine({
    node: 'test',
    venues,
    symbols: { binance: o.symbols ?? ['BTCUSDT', 'ETHUSDT'] },
    journal: store.journal,
    orders: store.orders,
    kv: store.kv,
    book,
    ...(perps ? { perps, perp: o.perp } : {}),
    metrics,
    log: silent,
    now: o.now ?? Date.now,
    hr: () => performance.now(),
    notify: o.notify ?? (() => undefined),
    minTradeUsdt: 10,
    ...(o.random ? { random: o.random } : {}),
    ...(o.stops ? { stops: o.stops } : {}),
    ...(o.maker ? { maker: o.maker } : {}),
    inputs: {
      trading: () => ({ ...gov }),
      limits: () => limits,
      policyAllowed: () => true,
      allocations: () => ({ reserve_pct: 0 }),
      equityBreaker: () => ({ tripped: false, reason: '' }),
      venueBreaker: () => ({ tripped: false, reason: '' }),
      guards: () => ({ depegActive: false, fundingSpike: false }),
      haltVenue: async (_v, reason) => {
        halts.push(reason);
      },
    },
  });
  return {
    sim,
    keys,
    dir,
    store,
    book,
    ...(perps ? { perps } : {}),
    engine,
    gateway,
    gov,
    limits,
    halts,
    metrics,
    async close() {
      await raw.close();
      await store.close();
    },
  };
}

/** PERP_* for the perpetual rigs: isolated margin at leverage 2, entries refused within 20% of liquidation. */
export { ISOLATED_PERP } from '../support/perp-settings.js';

/** A strategy's perpetual order of `quote` USDT at `price` (the mark), straight to the engine (past the signal). */
export function perpOrder(
  r: EngineRig,
  o: { side: 'buy' | 'sell'; quote: number; price: number; reduceOnly?: boolean; symbol?: string },
) {
  return r.engine.submitGuard({
    venue: 'binance',
    symbol: o.symbol ?? 'BTCUSDT',
    side: o.side,
    quote: o.quote,
    strategy: 'hmm',
    reason: 'test',
    market: 'linear',
    price: o.price,
    reduceOnly: o.reduceOnly ?? false,
  });
}

/** The first boot's baseline from the venue, then reconciliation, then accepting (what boot recovery does). */
export async function boot(r: EngineRig): Promise<void> {
  if (!r.book.hasVenue('binance')) {
    const at = Date.now();
    const b = await r.gateway.fetchBalances('spot');
    await r.book.baseline('binance', Object.fromEntries(Object.entries(b).map(([a, e]) => [a, e.total])), at);
  }
  await r.engine.perpBoot();
  r.engine.takeSlots();
  await r.engine.reconcileAll();
  r.engine.setAccepting(true);
}

/** Orders the simulator holds for the rig's account (the venue's truth). */
export function venueOrders(r: EngineRig) {
  return r.sim.state({ venue: 'binance', account: r.keys.apiKey }).orders;
}

/** A clock the test steps (maker timeouts, shadow windows): a `sleep` resolves once `advance` passes its time. */
export function steppedClock(start = 0) {
  let t = start;
  const waiters: Array<{ at: number; go: () => void }> = [];
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((go) => waiters.push({ at: t + ms, go })),
    /** Moves the clock and wakes every sleeper whose wait is over. */
    advance(ms: number): void {
      t += ms;
      for (const w of waiters.splice(0)) {
        if (w.at <= t) w.go();
        else waiters.push(w);
      }
    },
  };
}

/**
 * A booted rig on a simulator of its own whose market is frozen (a manual clock): the test moves its prices, so
 * each outcome is certain. `close` closes the simulator too.
 */
export async function frozenMarketRig(seed: number, o: RigOptions): Promise<EngineRig> {
  const sim = await startSimulator({ host: '127.0.0.1', port: 0, seed, clock: createManualClock(Date.now()) });
  const r = await engineRig(sim, o);
  await boot(r);
  return {
    ...r,
    async close() {
      await r.close();
      await sim.close();
    },
  };
}
