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
import { buildCatalogue } from './instruments.js';
import { KrakenDialect } from './kraken.dialect.js';
import { Market } from './market.js';
import { MatchingEngine } from './matching-engine.js';
import { type BookShape, DEFAULT_BOOK } from './order-book.js';
import { RequestLog, type RequestStats } from './request-log.js';
import type { ScenarioInfo, ScenarioInput } from './scenario.schema.js';
import { ScenarioError, Scenarios } from './scenarios.js';
import { SimServer } from './server.js';
import { accountState, fairPrices, orderState, type RegimeTruth, regimeTruth, type SimState } from './state-views.js';
import type { StreamFaultInput } from './ws/stream-faults.js';
import { StreamHub, type StreamHubOptions } from './ws/stream-hub.js';

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
  /** Open orders allowed per account and market (Binance MAX_NUM_ORDERS; default 200). */
  maxOpenOrdersPerMarket?: number;
  /** WebSocket streams: push period (default 1000 ms, the venues' update speed), heartbeats, server pings. */
  streams?: StreamHubOptions;
}

export interface AccountInput {
  apiKey?: string;
  secret?: string;
  spot?: Record<string, number>;
  futures?: Record<string, number>;
}

/** A running simulator; the in-process controls mirror the `/__sim/` control API. */
export interface Simulator {
  readonly baseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly seed: number;
  /** The default paper account of each venue. */
  readonly keys: SimKeys;
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
  const seed = opts.seed ?? 1;
  const stepMs = opts.priceStepMs ?? 1000;
  if (!(stepMs > 0 && 60_000 % stepMs === 0)) throw new RangeError(`priceStepMs must divide one minute, got ${stepMs}`);
  const fundingIntervalMs = opts.fundingIntervalMs ?? 8 * 3_600_000;
  if (!(fundingIntervalMs > 0 && fundingIntervalMs % 60_000 === 0))
    throw new RangeError(`fundingIntervalMs must be a whole number of minutes, got ${fundingIntervalMs}`);
  const time = new SimTime(opts.clock ?? realClock);
  const now = () => time.now();
  const market = new Market(buildCatalogue(opts.extraAlts ?? 0), {
    seed,
    originMs: Math.floor(now() / stepMs) * stepMs,
    stepMs,
    fundingIntervalMs,
    book: { ...DEFAULT_BOOK, ...opts.book },
  });
  const accounts = new AccountBook(now);
  const keys: SimKeys = {
    binance: { ...accounts.create('binance', opts.keys?.binance).keys },
    kraken: { ...accounts.create('kraken', opts.keys?.kraken).keys },
  };
  const seedAccounts = () => {
    accounts.create('binance', keys.binance);
    accounts.create('kraken', keys.kraken);
  };
  const engine = new MatchingEngine(market, now, seed);
  engine.accounts = () => accounts.all('binance');
  if (opts.maxOpenOrdersPerMarket !== undefined) engine.maxOpenOrdersPerMarket = opts.maxOpenOrdersPerMarket;
  const faults = new FaultBook(seed, now);
  const log = new RequestLog();
  const scenarios = new Scenarios(market, faults, now);
  const deps: DialectDeps = { market, engine, now };
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
    ],
    accounts,
    now,
  );
  binance.limits = { ...DEFAULT_BINANCE_LIMITS, ...opts.limits };
  const tokens = new Map<string, { apiKey: string; expiresAt: number }>();
  const kraken = new KrakenDialect(deps, accounts, tokens);
  const accountFor = (venue: Venue, apiKey?: string): Account => {
    const a = accounts.get(apiKey ?? keys[venue].apiKey);
    if (a === undefined || a.venue !== venue) throw new RangeError(`no ${venue} account with that apiKey`);
    return a;
  };

  let sim: Simulator;
  const server = new SimServer({
    dialects: [binance, kraken],
    control: (req) => handleControl(req, sim),
    faults,
    log,
    beforeVenue: () => engine.sync(),
  });
  const hub = new StreamHub(
    { market, engine, accounts, now, tokens, authNow: (v) => Date.now() + faults.skewMs(v) },
    opts.streams,
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
      engine.reset();
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
      return { ...a.keys };
    },
    setBalances(input) {
      const a = accountFor(input.venue, input.apiKey);
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
    },
    limits: () => ({ ...binance.limits }),
    setLimits(l) {
      binance.limits = { ...binance.limits, ...l };
      return { ...binance.limits };
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
    },
  };
  return sim;
}
