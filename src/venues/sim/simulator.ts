/**
 * `startSimulator`: assembles clock, market, accounts, matching engine, dialects, faults and the HTTP server
 * into one running exchange simulator, and exposes its in-process controls (which the `/__sim/` control API
 * mirrors).
 */
import { type Account, AccountBook, type ApiKeyPair } from './accounts.js';
import { futuresEndpoints } from './binance-futures.dialect.js';
import { futuresOrderEndpoints } from './binance-futures-orders.js';
import { BinanceDialect, type BinanceLimits, DEFAULT_BINANCE_LIMITS, type DialectDeps } from './binance-gate.js';
import { marketDataEndpoints } from './binance-market-data.js';
import { spotTradingEndpoints } from './binance-spot.dialect.js';
import { spotSymbolInfo } from './binance-spot.views.js';
import { realClock, type SimClock, SimTime } from './clock.js';
import { handleControl } from './control.routes.js';
import { FaultBook, type FaultInfo, type FaultInput, type Venue } from './faults.js';
import type { SimRequest } from './http-types.js';
import { buildCatalogue } from './instruments.js';
import { KrakenDialect } from './kraken.dialect.js';
import { KrakenGate, type KrakenSimTier } from './kraken-gate.js';
import { Market } from './market.js';
import { MatchingEngine, Rejection } from './matching-engine.js';
import { type BookShape, DEFAULT_BOOK } from './order-book.js';
import { type OrderEvent, OrderEventLog } from './order-events.js';
import { RequestLog, type RequestStats } from './request-log.js';
import type { ScenarioInfo, ScenarioInput } from './scenario.schema.js';
import { ScenarioError, Scenarios } from './scenarios.js';
import { SimServer } from './server.js';
import { type MarketShape, restoreSnapshot, type SimSnapshot, takeSnapshot } from './sim-snapshot.js';
import { SimStateFile } from './state-file.js';
import { accountState, fairPrices, orderState, type RegimeTruth, regimeTruth, type SimState } from './state-views.js';
import { ListenKeys, listenKeyEndpoints } from './ws/binance-listen-keys.js';
import type { StreamFaultInput } from './ws/stream-faults.js';
import { type Durability, StreamHub, type StreamHubOptions } from './ws/stream-hub.js';

export type { ApiKeyPair };

export interface SimKeys {
  binance: ApiKeyPair;
  kraken: ApiKeyPair;
}

export interface SimulatorOptions {
  /** Listen port; 0 (default) = ephemeral. */
  port?: number;
  /** Listen host; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Seed of every price path and random draw (default 1). Same seed + same steps = same prices. */
  seed?: number;
  /** Market clock (default real time). Inject `createManualClock()` for deterministic tests. */
  clock?: SimClock;
  /** Keys of the default paper account per venue; generated when omitted (Kraken secrets must be base64). */
  keys?: { binance?: Partial<ApiKeyPair>; kraken?: Partial<ApiKeyPair> };
  /** Price step in ms (must divide one minute; default 1000). */
  priceStepMs?: number;
  /** Perpetual funding interval in ms (default 8 h, settled at multiples of it in sim time). */
  fundingIntervalMs?: number;
  /** Extra synthetic alts `ALT1…ALTn` listed on both venues (scale tests); default 0. */
  extraAlts?: number;
  /** Synthetic book shape. */
  book?: Partial<BookShape>;
  /** Binance request-weight limits. */
  limits?: Partial<BinanceLimits>;
  /**
   * Kraken's verification tier, whose call and trading counters are enforced per API key (kraken-gate.ts).
   * Default `off`: with `starter`, Bosun's crash campaigns (a boot every few seconds on one key) run into
   * `EAPI:Rate limit exceeded`, because Bosun's budget starts each incarnation with an empty counter; until its
   * budget learns the venue's counter, only tests about the limits turn it on.
   */
  krakenTier?: KrakenSimTier | 'off';
  /** Open orders allowed per account and market (Binance MAX_NUM_ORDERS; default 200). */
  maxOpenOrdersPerMarket?: number;
  /** Keep the venue's log of every create received (`orderEvents`, order-events.ts); default off. */
  recordOrderEvents?: boolean;
  /**
   * Keep accounts, orders, trades and the price path's position in this directory and resume from it at start
   * (a paper venue that survives restarts). A request that changed something is answered only once the change
   * is on disk. The persisted seed, step and origin win over `seed`, `priceStepMs` and the clock's start; the
   * persisted default accounts win over `keys`. Without it the simulator forgets everything when it stops.
   */
  stateDir?: string;
  /** When set, the `/__sim/` control routes (but health) need it in `X-Sim-Token`. */
  controlToken?: string;
  /** WebSocket streams: push period (default 1000 ms, the venues' update speed), heartbeats, server pings. */
  streams?: StreamHubOptions;
  /** Benchmark instrumentation, called synchronously on the hot paths (keep it cheap); none by default. */
  probe?: SimProbe;
}

/** What a benchmark may observe inside the simulator (bench/stream-tick-to-order.bench.ts). */
export interface SimProbe {
  /** A venue request arrived, before faults and handling. */
  request?: (venue: Venue, req: SimRequest) => void;
  /** A stream message was handed to its socket. */
  sent?: (venue: Venue, msg: unknown) => void;
}

/** An order placed on an account from outside any API client (a person on the venue's web page). */
export interface ManualOrderInput {
  venue: Venue;
  /** The account (default: the venue's default account). */
  apiKey?: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit' | 'stop_loss';
  /** Base quantity (rounded down to the market's step). */
  qty: number;
  /** Limit price (limit), rounded to the tick. */
  price?: number;
  /** Trigger price (stop_loss), rounded to the tick. */
  stopPrice?: number;
  /** The venue's own id when omitted, as its web page assigns one. */
  clientOrderId?: string;
  /** Binance USDⓈ-M (`perp`) instead of spot; a perpetual order may be reduce-only. */
  market?: 'spot' | 'perp';
  reduceOnly?: boolean;
}

export interface AccountInput {
  apiKey?: string;
  secret?: string;
  spot?: Record<string, number>;
  futures?: Record<string, number>;
  /** Binance: a key without futures permission (USDⓈ-M signed endpoints answer 401 -2015). */
  spotOnly?: boolean;
}

/** A running simulator; the in-process controls mirror the `/__sim/` control API. */
export interface Simulator {
  readonly baseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly seed: number;
  /** The default paper account of each venue. */
  readonly keys: SimKeys;
  /** Whether the state was resumed from `stateDir` (false: a fresh simulator). */
  readonly restored: boolean;
  /** Resolves once everything changed so far is on disk (no-op without `stateDir`). */
  flush(): Promise<void>;
  /** Sim time in epoch ms. */
  now(): number;
  /** Moves sim time forward: prices step, stops trigger, resting orders fill, funding is paid. */
  advance(ms: number): void;
  readonly faults: {
    add(input: FaultInput): FaultInfo;
    list(): FaultInfo[];
    remove(id: string): boolean;
    clear(): void;
  };
  /** Starts a market scenario (depeg, funding spike, venue outage, flash crash). */
  scenario(input: ScenarioInput): ScenarioInfo;
  scenarios(): ScenarioInfo[];
  /** Back to the start: default accounts re-seeded, orders, positions, extra accounts, faults, scenarios, counters and limits cleared (keys and clock stay). */
  reset(): void;
  state(filter?: { venue?: Venue; account?: string; open?: boolean }): SimState;
  requests(): RequestStats;
  /** Kraken calls refused by its rate limits since start or `reset` (`EAPI:` call counter, `EOrder:` trading). */
  krakenRateLimited(): { calls: number; trading: number };
  /** The Kraken tier whose limits are enforced (`off`: none). */
  readonly krakenTier: KrakenSimTier | 'off';
  resetRequests(): void;
  /** The true regime sequence behind a symbol's (or asset's) price path. */
  truth(symbol: string): RegimeTruth;
  /** Fair prices of every market (`binance:spot:BTCUSDT` → "60000.00000000"). */
  prices(venue?: Venue): Record<string, string>;
  /** Adds a paper account with its own keys (e.g. one per process, for Kraken nonces). */
  createAccount(venue: Venue, input?: AccountInput): ApiKeyPair;
  /** Sets free balances of an account (default: the venue's default account). */
  setBalances(input: {
    venue: Venue;
    apiKey?: string;
    spot?: Record<string, number>;
    futures?: Record<string, number>;
  }): ReturnType<typeof accountState>;
  /** Moves a market's fair price to `price` now (its base asset moves on every market). */
  setPrice(input: { venue?: Venue; market?: 'spot' | 'perp'; symbol: string; price: number }): void;
  limits(): BinanceLimits;
  setLimits(limits: Partial<BinanceLimits>): BinanceLimits;
  /** The log of creates received (empty unless started with `recordOrderEvents`). */
  readonly orderEvents: {
    list(account?: string): OrderEvent[];
    /** Sequence of the latest create received (0 before any). */
    last(): number;
    clear(account?: string): void;
  };
  /**
   * Books a spot order on an account as its owner would on the venue's web page (no API call, no request
   * counted); throws RangeError with the venue's reason when refused.
   */
  placeOrder(input: ManualOrderInput): { venueOrderId: string; clientOrderId: string; status: string };
  /** The WebSocket side (ws/stream-hub.ts): stream faults, connection counts, an immediate market-data push. */
  readonly streams: {
    fault(input: StreamFaultInput): { kind: string; venues: Venue[] };
    faults(): ReturnType<StreamHub['faults']['list']>;
    clearFaults(): void;
    stats(): ReturnType<StreamHub['stats']>;
    push(): void;
  };
  close(): Promise<void>;
}

/** Starts the simulator on loopback and resolves once it listens. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const time = new SimTime(opts.clock ?? realClock);
  const now = () => time.now();
  let file: SimStateFile | undefined;
  let saved: SimSnapshot | undefined;
  let snapshot: () => SimSnapshot = () => {
    throw new Error('simulator not started');
  };
  let version = () => 0;
  if (opts.stateDir !== undefined) {
    file = new SimStateFile(opts.stateDir, () => ({ version: version(), snapshot: () => snapshot() }));
    saved = file.load();
  }
  const shape = marketShape(opts, saved, now());
  const { seed, stepMs } = shape;
  const market = new Market(buildCatalogue(shape.extraAlts), {
    seed,
    originMs: shape.originMs,
    stepMs,
    fundingIntervalMs: shape.fundingIntervalMs,
    book: { ...DEFAULT_BOOK, ...opts.book },
  });
  const accounts = new AccountBook(now);
  const engine = new MatchingEngine(market, now, seed);
  if (saved !== undefined) restoreSnapshot(saved, { market, engine, accounts });
  const keys: SimKeys = {
    binance: defaultKeys(accounts, 'binance', saved, opts.keys?.binance),
    kraken: defaultKeys(accounts, 'kraken', saved, opts.keys?.kraken),
  };
  const seedAccounts = () => {
    accounts.create('binance', keys.binance);
    accounts.create('kraken', keys.kraken);
  };
  // Changes made from the control API (balances, accounts, reset), beside the engine's own.
  let controlVersion = 0;
  version = () => engine.version + controlVersion;
  snapshot = () =>
    takeSnapshot({
      shape,
      market,
      engine,
      accounts,
      defaults: { binance: keys.binance.apiKey, kraken: keys.kraken.apiKey },
      now: now(),
    });
  // Resumed as it was on disk (unless a default account had to be created for keys it did not know).
  if (saved !== undefined && accounts.lastSeq === saved.accountSeq) file?.markSaved(version());
  engine.accounts = () => accounts.all('binance');
  if (opts.maxOpenOrdersPerMarket !== undefined) engine.maxOpenOrdersPerMarket = opts.maxOpenOrdersPerMarket;
  const orderEvents = new OrderEventLog();
  if (opts.recordOrderEvents === true) engine.events = orderEvents;
  let manualSeq = 0;
  const faults = new FaultBook(seed, now);
  const log = new RequestLog();
  const scenarios = new Scenarios(market, faults, now);
  const deps: DialectDeps = { market, engine, now };
  const listenKeys = new ListenKeys(now);
  const binance: BinanceDialect = new BinanceDialect(
    [
      ...marketDataEndpoints(deps, {
        kind: 'spot',
        prefix: '/api/v3',
        symbolInfo: spotSymbolInfo,
        infoExtra: (): Record<string, unknown> => ({
          rateLimits: [
            {
              rateLimitType: 'REQUEST_WEIGHT',
              interval: 'MINUTE',
              intervalNum: 1,
              limit: binance.limits.spotWeightPerMinute,
            },
            { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 50 },
            { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 160000 },
            { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
          ],
        }),
      }),
      ...spotTradingEndpoints(deps),
      ...futuresEndpoints(deps),
      ...futuresOrderEndpoints(deps),
      ...listenKeyEndpoints(listenKeys),
    ],
    accounts,
    now,
  );
  binance.limits = { ...DEFAULT_BINANCE_LIMITS, ...opts.limits };
  const tokens = new Map<string, { apiKey: string; expiresAt: number }>();
  const krakenGate = new KrakenGate(now, opts.krakenTier ?? 'off');
  const kraken = new KrakenDialect({ ...deps, gate: krakenGate }, accounts, tokens);
  const accountFor = (venue: Venue, apiKey?: string): Account => {
    const a = accounts.get(apiKey ?? keys[venue].apiKey);
    if (a === undefined || a.venue !== venue) throw new RangeError(`no ${venue} account with that apiKey`);
    return a;
  };

  let sim: Simulator;
  const server = new SimServer({
    dialects: [binance, kraken],
    control: (req) => handleControl(req, sim, opts.controlToken),
    faults,
    log,
    beforeVenue: () => engine.sync(),
    onRequest: opts.probe?.request,
    ...(file === undefined ? {} : { persist: () => (file as SimStateFile).save() }),
  });
  const hub = new StreamHub(
    { market, engine, accounts, now, tokens, listenKeys, authNow: (v) => Date.now() + faults.skewMs(v) },
    {
      ...opts.streams,
      onSent: opts.probe?.sent,
      durable: file === undefined ? undefined : durability(file, () => version()),
    },
  );
  hub.attach(server.http);
  const port = await server.listen(opts.port ?? 0, host);
  const urlHost = host.includes(':') ? `[${host}]` : host;

  sim = {
    baseUrl: `http://${urlHost}:${port}`,
    host,
    port,
    seed,
    keys,
    restored: saved !== undefined,
    flush: () => file?.save() ?? Promise.resolve(),
    now,
    advance(ms) {
      time.advance(ms);
      engine.sync();
      hub.step();
    },
    faults: {
      add: (i) => faults.add(i),
      list: () => faults.list(),
      remove: (id) => faults.remove(id),
      clear: () => faults.clear(),
    },
    scenario: (i) => scenarios.run(i),
    scenarios: () => scenarios.list(),
    reset() {
      controlVersion++;
      engine.reset();
      krakenGate.reset();
      accounts.clear();
      seedAccounts();
      faults.clear();
      hub.faults.clear();
      scenarios.clear();
      log.reset();
      binance.resetLimits();
      binance.limits = { ...DEFAULT_BINANCE_LIMITS, ...opts.limits };
    },
    state(filter = {}) {
      engine.sync();
      const accs = accounts
        .all(filter.venue)
        .filter((a) => filter.account === undefined || a.id === filter.account || a.keys.apiKey === filter.account);
      const orders = engine.store
        .all()
        .filter(
          (o) =>
            accs.includes(o.account) && (filter.open !== true || o.status === 'new' || o.status === 'partially_filled'),
        )
        .sort((x, y) => x.seq - y.seq)
        .slice(-2000);
      return {
        now: now(),
        step: market.currentStep,
        accounts: accs.map((a) => accountState(a, engine)),
        orders: orders.map(orderState),
        trades: engine.store.trades.length,
      };
    },
    requests: () => log.stats(),
    krakenRateLimited: () => krakenGate.refusals(),
    krakenTier: opts.krakenTier ?? 'off',
    resetRequests: () => log.reset(),
    truth(symbol) {
      engine.sync();
      const asset = market.assetOf(symbol);
      if (asset === undefined || asset === 'USD') throw new ScenarioError(`unknown symbol or asset "${symbol}"`);
      return regimeTruth(market, seed, symbol, asset);
    },
    prices(venue) {
      engine.sync();
      return fairPrices(market, now(), venue);
    },
    createAccount(venue, input = {}) {
      controlVersion++;
      const a = accounts.create(
        venue,
        {
          ...(input.apiKey === undefined ? {} : { apiKey: input.apiKey }),
          ...(input.secret === undefined ? {} : { secret: input.secret }),
        },
        {
          ...(input.spot === undefined ? {} : { spot: input.spot }),
          ...(input.futures === undefined ? {} : { futures: input.futures }),
        },
      );
      a.spotOnly = input.spotOnly === true;
      return { ...a.keys };
    },
    setBalances(input) {
      const a = accountFor(input.venue, input.apiKey);
      controlVersion++;
      if (input.spot !== undefined) a.setSpot(input.spot);
      if (input.futures !== undefined) a.setWallet(input.futures);
      a.updateTime = now();
      return accountState(a, engine);
    },
    setPrice(input) {
      engine.sync();
      const m = market.market(input.venue ?? 'binance', input.market ?? 'spot', input.symbol.toUpperCase());
      if (m === undefined)
        throw new RangeError(`unknown market ${input.venue ?? 'binance'} ${input.market ?? 'spot'} ${input.symbol}`);
      market.setPrice(m, input.price, now());
      engine.tape.sample();
    },
    limits: () => ({ ...binance.limits }),
    setLimits(l) {
      binance.limits = { ...binance.limits, ...l };
      return { ...binance.limits };
    },
    orderEvents: {
      list: (account) => orderEvents.list(account),
      last: () => orderEvents.last(),
      clear: (account) => orderEvents.clear(account),
    },
    placeOrder(input) {
      engine.sync();
      const a = accountFor(input.venue, input.apiKey);
      const kindOf = input.market ?? 'spot';
      const m = market.market(input.venue, kindOf, input.symbol.toUpperCase());
      if (m === undefined) throw new RangeError(`unknown market ${input.venue} ${kindOf} ${input.symbol}`);
      const step = (v: number, s: number) => Number((Math.floor(v / s + 1e-9) * s).toFixed(12));
      const kind = input.type === 'stop_loss' ? 'stop_market' : input.type;
      const stopType = kindOf === 'perp' ? 'STOP_MARKET' : 'STOP_LOSS';
      try {
        const o = engine.place({
          account: a,
          market: m,
          side: input.side,
          kind,
          venueType: input.type === 'stop_loss' ? stopType : input.type.toUpperCase(),
          ...(input.reduceOnly === true ? { reduceOnly: true } : {}),
          clientOrderId: input.clientOrderId ?? `web_${seed}_${++manualSeq}`,
          qty: step(input.qty, m.stepSize),
          ...(input.price === undefined ? {} : { price: step(input.price, m.tickSize) }),
          ...(input.stopPrice === undefined ? {} : { stopPrice: step(input.stopPrice, m.tickSize) }),
          immediateTrigger: 'reject',
          postOnlyCrossing: 'reject',
        });
        return { venueOrderId: o.venueOrderId, clientOrderId: o.clientOrderId, status: o.status };
      } catch (e) {
        if (e instanceof Rejection) throw new RangeError(`refused (${e.reason}): ${e.message}`);
        throw e;
      }
    },
    streams: {
      fault: (i) => hub.addFault(i),
      faults: () => hub.faults.list(),
      clearFaults: () => hub.faults.clear(),
      stats: () => hub.stats(),
      push: () => hub.step(),
    },
    async close() {
      await hub.close();
      await server.close();
      await file?.save();
    },
  };
  // A fresh persistent simulator writes its keys and balances at once: a client holding these keys must find
  // the same accounts after a crash, even before its first order.
  await sim.flush();
  return sim;
}

/** The path's shape: the persisted one when resuming (prices continue where they were), else from the options. */
function marketShape(opts: SimulatorOptions, saved: SimSnapshot | undefined, nowMs: number): MarketShape {
  const extraAlts = Math.max(opts.extraAlts ?? 0, saved?.extraAlts ?? 0);
  if (saved !== undefined)
    return {
      seed: saved.seed,
      originMs: saved.originMs,
      stepMs: saved.stepMs,
      fundingIntervalMs: saved.fundingIntervalMs,
      extraAlts,
    };
  const stepMs = opts.priceStepMs ?? 1000;
  if (!(stepMs > 0 && 60_000 % stepMs === 0)) throw new RangeError(`priceStepMs must divide one minute, got ${stepMs}`);
  const fundingIntervalMs = opts.fundingIntervalMs ?? 8 * 3_600_000;
  if (!(fundingIntervalMs > 0 && fundingIntervalMs % 60_000 === 0))
    throw new RangeError(`fundingIntervalMs must be a whole number of minutes, got ${fundingIntervalMs}`);
  return { seed: opts.seed ?? 1, originMs: Math.floor(nowMs / stepMs) * stepMs, stepMs, fundingIntervalMs, extraAlts };
}

/**
 * The default account of a venue: the persisted one when resuming (unless `wanted` names another key, which is
 * then created), else a new one with `wanted` (or generated) keys.
 */
function defaultKeys(
  accounts: AccountBook,
  venue: Venue,
  saved: SimSnapshot | undefined,
  wanted: Partial<ApiKeyPair> | undefined,
): ApiKeyPair {
  const persisted = saved === undefined ? undefined : accounts.get(saved.defaults[venue]);
  if (persisted !== undefined && (wanted?.apiKey === undefined || wanted.apiKey === persisted.keys.apiKey))
    return { ...persisted.keys };
  const existing = wanted?.apiKey === undefined ? undefined : accounts.get(wanted.apiKey);
  if (existing !== undefined && existing.venue === venue) return { ...existing.keys };
  return { ...accounts.create(venue, wanted).keys };
}

/** A state file as the stream hub sees it: messages wait for the version they were sent at to be on disk. */
function durability(file: SimStateFile, version: () => number): Durability {
  return { version, saved: () => file.savedVersion, save: () => file.save() };
}
