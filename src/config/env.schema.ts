import { z } from 'zod';
import { VENUE_IDS, type VenueId } from '../domain/ids.js';
import { flag } from './env-flag.js';
import { MAKER_MODE_PATTERN, makerModeProblem, parseMakerMode } from './maker-mode.js';

/**
 * Every environment flag Bosun reads (the runbook's flags plus ports, paths and guard thresholds), one zod
 * schema. Keys keep the env names so a flag greps the same in the runbook, `.env`, the docs and the code.
 * Input is the env with empty strings already removed (empty = unset, see load-config.ts).
 */

/** A trading symbol as Bosun spells it (`BTCUSDT`). */
export const SYMBOL_PATTERN = /^[A-Z0-9]{2,20}$/;
const PORT = { min: 0, max: 65535 };
const PCT = { min: 0, max: 100 };
const POSITIVE_SEC = { min: 1, max: 86_400 * 7 };

const DEFAULT_VENUES = 'binance,kraken';

// VENUES leaves its default to `resolve` so that the legacy VENUE can fill it first.
const venueList = (def: string | undefined, description: string) =>
  flag.list('venues', def, description, {
    defaultAppliedLater: true,
    norm: (s) => s.toLowerCase(),
    item: z.enum(VENUE_IDS as [VenueId, ...VenueId[]], { error: `expected a comma list of: ${VENUE_IDS.join(', ')}` }),
    expected: `expected a comma list of: ${VENUE_IDS.join(', ')}`,
    type: `list of ${VENUE_IDS.join(' | ')}`,
  });

export const EnvShape = {
  // ── mode and runtime ──
  MODE: flag.oneOf(
    'mode',
    ['paper', 'live'],
    'paper',
    'paper trades on the embedded simulator (no keys, no network); live needs venue keys and OPS_API_TOKEN.',
  ),
  NODE_ID: flag.str('mode', 'bosun', 'Node id used in clientOrderIds; must differ between shards sharing an account.', {
    pattern: /^[A-Za-z0-9]{1,8}$/,
    expected: 'expected 1-8 letters or digits',
    type: 'string [A-Za-z0-9]{1,8}',
  }),
  LOG_LEVEL: flag.oneOf(
    'mode',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    'info',
    'Minimum pino log level.',
  ),
  LOG_PRETTY: flag.oneOf(
    'mode',
    ['auto', 'true', 'false'],
    'auto',
    'Human-readable stdout logs; auto = only when stdout is a terminal.',
  ),
  HEARTBEAT_SEC: flag.int(
    'mode',
    5,
    { min: 1, max: 60 },
    'Period of metrics_heartbeat updates (runbook: stale > 60 s).',
  ),

  // ── listeners ──
  BIND_HOST: flag.str(
    'network',
    '127.0.0.1',
    'Address every listener binds; read-only routes are open, so keep loopback.',
    {
      pattern: /^[A-Za-z0-9.:-]+$/,
      expected: 'expected a host name or IP address',
      type: 'host',
    },
  ),
  ALLOWED_HOSTS: flag.list(
    'network',
    undefined,
    "Extra Host names every listener answers to (a reverse proxy's public name); localhost, loopback IPs and BIND_HOST always are. Any other Host header is a 403 (DNS rebinding).",
    {
      norm: (s) => s.toLowerCase(),
      item: z.string().regex(/^[a-z0-9.:[\]-]{1,253}$/, 'expected a comma list of host names'),
      expected: 'expected a comma list of host names, e.g. bosun.internal,ops.example.com',
      type: 'list of hosts',
    },
  ),
  OPS_PORT: flag.int('network', 8002, PORT, 'Ops API / governance listener (status, kill, weights, audit, metrics).'),
  ENGINE_PORT: flag.int('network', 8003, PORT, 'Engine listener (orders, state, reconcile, external events, actors).'),
  UNIVERSE_PORT: flag.int('network', 8009, PORT, 'Universe service listener.'),
  SCREENER_PORT: flag.int('network', 8010, PORT, 'Screener listener.'),
  SITUATIONS_PORT: flag.int('network', 8011, PORT, 'Situations service listener (active incidents).'),

  // ── files and directories ──
  STATE_DIR: flag.str('paths', 'state', 'Root of everything Bosun writes; the other state paths default under it.', {
    type: 'path',
  }),
  DB_DIR: flag.derivedPath('paths', 'STATE_DIR', 'db', 'LMDB environment: the source of truth.'),
  LOG_DIR: flag.derivedPath('paths', 'STATE_DIR', 'logs', 'orders.jsonl, events.jsonl, audit.jsonl and app.log.'),
  RUNTIME_DIR: flag.derivedPath(
    'paths',
    'STATE_DIR',
    'runtime',
    'trend_auto_tune.json and symbol_scanner_state.json (operator may delete/touch).',
  ),
  PORTFOLIO_PATH: flag.derivedPath(
    'paths',
    'STATE_DIR',
    'portfolio.json',
    'Portfolio snapshot for audits and recovery.',
  ),
  OPS_TOKEN_PATH: flag.derivedPath(
    'paths',
    'STATE_DIR',
    'ops_token',
    'Where paper mode stores the generated ops token (mode 0600) when OPS_API_TOKEN is unset.',
  ),
  SIM_STATE_DIR: flag.derivedPath(
    'paths',
    'STATE_DIR',
    'sim',
    'The embedded simulator’s own state (paper venue accounts, orders, trades), when SIM_PERSIST.',
  ),
  OPS_DIR: flag.str('paths', 'ops', 'Operator config directory; the ops file paths default under it.', {
    type: 'path',
  }),
  STRATEGY_WEIGHTS_PATH: flag.derivedPath(
    'paths',
    'OPS_DIR',
    'strategy_weights.json',
    'stable/canary model blend (hot-reloaded; written by POST /strategy/weights).',
  ),
  CAPITAL_ALLOCATIONS_PATH: flag.derivedPath(
    'paths',
    'OPS_DIR',
    'capital_allocations.json',
    'Capital split per venue and symbol (hot-reloaded).',
  ),
  POLICIES_PATH: flag.derivedPath('paths', 'OPS_DIR', 'policies.yaml', 'Risk policies for the rails (hot-reloaded).'),
  HMM_CALIBRATION_PATH: flag.derivedPath(
    'paths',
    'OPS_DIR',
    'hmm_calibration.json',
    'HMM calibration: confidence gain, quote multiplier, cooldown scale (hot-reloaded).',
  ),
  CONFIG_POLL_SEC: flag.int(
    'paths',
    30,
    { min: 1, max: 60 },
    'Poll period for ops/* files besides the file watch (runbook: picked up within 60 s).',
  ),

  // ── auth and external events ──
  OPS_API_TOKEN: flag.optionalStr(
    'auth',
    'X-Ops-Token for mutating routes; required in live mode (≥ 16 chars); paper mode generates one if unset.',
    { secret: true, type: 'secret' },
  ),
  EXTERNAL_EVENTS_SECRET: flag.optionalStr(
    'auth',
    'HMAC-SHA256 key for X-Events-Signature on POST /events/external; unset = unsigned events from loopback only in paper mode, none in live mode.',
    { secret: true, type: 'secret' },
  ),
  EXTERNAL_EVENTS_REQUIRE_TIMESTAMP: flag.oneOf(
    'auth',
    ['auto', 'true', 'false'],
    'auto',
    "With EXTERNAL_EVENTS_SECRET set, refuse events without X-Events-Timestamp. auto = required in live mode, optional in paper mode (the runbook's test-harness curl sends none); untimestamped events are remembered in LMDB for EXTERNAL_EVENTS_REPLAY_WINDOW_SEC, restarts included.",
  ),
  EXTERNAL_EVENTS_REPLAY_WINDOW_SEC: flag.int(
    'auth',
    604_800,
    { min: 600, max: 86_400 * 90 },
    'How long an accepted event with no timestamp is remembered in LMDB to refuse its replay, restarts included.',
  ),
  EXTERNAL_EVENTS_MAX_BODY_BYTES: flag.int(
    'auth',
    65_536,
    { min: 1024, max: 1_048_576 },
    'Largest accepted body for POST /events/external.',
  ),

  // ── trading and executor ──
  TRADING_ENABLED: flag.bool(
    'trading',
    true,
    'Initial trading state on first start; afterwards the persisted kill switch (POST /kill) rules.',
  ),
  TRADE_SYMBOLS: flag.list(
    'trading',
    'BTCUSDT,ETHUSDT',
    'Symbol allowlist when the scanner is off; with it on, the boot set until the first pass.',
    {
      norm: (s) => s.toUpperCase(),
      item: z.string().regex(SYMBOL_PATTERN, 'expected a comma list of symbols like BTCUSDT,ETHUSDT'),
      expected: 'expected a comma list of symbols like BTCUSDT,ETHUSDT',
      type: 'list of symbols',
    },
  ),
  EXEC_INTERVAL_SEC: flag.int('trading', 60, POSITIVE_SEC, 'Executor loop period (allocation → rebalance orders).'),
  EXECUTOR_ENABLED: flag.bool('trading', false, 'Run the optional executor actor.'),
  DRY_RUN: flag.bool('trading', true, 'Executor computes and logs rebalance orders without sending them.'),
  FEED_POLL_MS: flag.int(
    'trading',
    1000,
    { min: 100, max: 60_000 },
    'Ticker polling period per venue feed (the fallback while a stream is down, or always with STREAMS_ENABLED=false).',
  ),
  STREAMS_ENABLED: flag.bool(
    'trading',
    true,
    'Market data by WebSocket (ccxt.pro); REST polling only while a stream is down (feed DEGRADED "stream down, polling").',
  ),
  STREAM_SILENCE_MS: flag.int(
    'trading',
    10_000,
    { min: 500, max: 300_000 },
    'A stream with no message (data or heartbeat) for this long is torn down and reconnected; the feed polls meanwhile.',
  ),
  PORTFOLIO_SNAPSHOT_SEC: flag.int('trading', 60, { min: 1, max: 3600 }, 'Period of portfolio.json snapshots.'),
  BAR_MS: flag.int('trading', 60_000, { min: 100, max: 86_400_000 }, 'Bar length the strategies run on (ms).'),
  HMM_WARMUP_BARS: flag.int(
    'trading',
    0,
    { min: 0, max: 100_000 },
    'Bars before the first HMM calibration; 0 = the variants’ defaults (2,000 stable, 500 canary).',
  ),
  HISTORY_WARMUP_ENABLED: flag.bool(
    'trading',
    true,
    'At boot and when the scanner adds a symbol, warm the strategies from the venue’s OHLCV (klines / OHLC).',
  ),
  HISTORY_WARMUP_BARS: flag.int(
    'trading',
    0,
    { min: 0, max: 20_000 },
    'Closed bars of history to fetch per symbol; 0 = what the slowest strategy needs (the stable HMM’s warm-up).',
  ),
  TREND_SIGNAL_WEIGHT: flag.num(
    'trading',
    0.5,
    { min: 0, max: 1 },
    'Share of trend follow in the combined signal (the rest is the HMM blend).',
  ),
  TREND_FAST_BARS: flag.int('strategies', 8, { min: 3, max: 30 }, 'Trend follow fast EMA (bars); auto-tune default.'),
  TREND_SLOW_BARS: flag.int(
    'strategies',
    34,
    { min: 10, max: 200 },
    'Trend follow slow EMA (bars); auto-tune default.',
  ),
  TREND_ENTRY_Z: flag.num(
    'strategies',
    0.5,
    { min: 0.1, max: 2 },
    'Trend follow entry threshold (z-score); auto-tune default.',
  ),
  MIN_TRADE_USDT: flag.num('trading', 10, { min: 0 }, 'Smallest position change worth an order (hysteresis).'),
  RECONCILE_INTERVAL_SEC: flag.int('trading', 60, { min: 1, max: 86_400 }, 'Period of automatic reconciliation.'),

  // ── risk rails and breakers ──
  MAX_NOTIONAL_USDT: flag.num(
    'rails',
    100,
    { min: 0 },
    "Per-order notional cap (USDT); 0 blocks every new order. A strategy's reduce-only close of a whole perpetual position is exempt (it cannot add risk).",
  ),
  MAX_SYMBOL_EXPOSURE_USDT: flag.num('rails', 1000, { min: 0 }, 'Exposure cap per symbol across venues (USDT).'),
  MAX_VENUE_EXPOSURE_USDT: flag.num('rails', 5000, { min: 0 }, 'Exposure cap per venue (USDT).'),
  MAX_ASSET_EXPOSURE_USDT: flag.num(
    'rails',
    2500,
    { min: 0 },
    'Exposure cap per base asset across symbols and venues (USDT).',
  ),
  ORDER_COOLDOWN_SEC: flag.int(
    'rails',
    30,
    { min: 0, max: 86_400 },
    'Base cooldown per symbol after a trade (× HMM cooldown_scale).',
  ),
  EQUITY_FLOOR_USD: flag.num('rails', 1000, { min: 0 }, 'Equity breaker trips when equity falls below this (USD).'),
  MAX_DRAWDOWN_PCT: flag.num(
    'rails',
    10,
    { min: 0.1, max: 100 },
    'Equity breaker trips past this drawdown from peak (%).',
  ),
  EQUITY_COOLDOWN_SEC: flag.int(
    'rails',
    900,
    { min: 0, max: 86_400 },
    'Equity breaker auto-resets this long after the buffer is positive again.',
  ),
  VENUE_ERROR_BREAKER_PCT: flag.num('rails', 50, { min: 1, max: 100 }, 'Venue breaker trips at this error rate (%).'),
  VENUE_ERROR_WINDOW: flag.int('rails', 20, { min: 2, max: 10_000 }, 'Venue error rate is over the last N requests.'),

  // ── guards ──
  DEPEG_GUARD_ENABLED: flag.bool('guards', true, 'Watch USDTUSDC and BTCUSDT/BTCUSDC parity; halt entries on a depeg.'),
  DEPEG_THRESHOLD_PCT: flag.num(
    'guards',
    0.5,
    { min: 0.01, max: 50 },
    'Deviation from parity that counts as a depeg (%).',
  ),
  DEPEG_CONFIRM_SEC: flag.int(
    'guards',
    30,
    { min: 0, max: 3600 },
    'Deviation must persist this long before the guard trips.',
  ),
  DEPEG_COOLDOWN_SEC: flag.int(
    'guards',
    3600,
    { min: 0, max: 604_800 },
    'After recovery, wait this long (and validate) before re-arming.',
  ),
  DEPEG_EXIT_RISK: flag.bool(
    'guards',
    false,
    'On a depeg also reduce existing positions (REDUCING), not only halt entries.',
  ),
  FUNDING_GUARD_ENABLED: flag.bool('guards', true, 'Trim positions when the funding rate spikes.'),
  FUNDING_SPIKE_THRESHOLD_PCT: flag.num(
    'guards',
    0.1,
    { min: 0.001, max: 10 },
    'Funding rate per funding interval that counts as a spike (%).',
  ),
  FUNDING_TRIM_PCT: flag.num('guards', 50, PCT, 'Share of the position trimmed on a funding spike (%).'),
  FUNDING_HEDGE_RATIO: flag.num(
    'guards',
    0,
    { min: 0, max: 1 },
    'BTC hedge size as a fraction of the trimmed notional; 0 = no hedge.',
  ),
  FUNDING_POLL_SEC: flag.int(
    'guards',
    60,
    { min: 1, max: 3600 },
    'Funding guard polls funding rates and positions this often.',
  ),
  STOP_VALIDATOR_REPAIR: flag.bool('guards', true, 'Place a server-side stop for any position found without one.'),
  STOPVAL_NOTIFY_ENABLED: flag.bool('guards', true, 'Telegram 🛡 message on each stop repair.'),
  STOP_VALIDATOR_INTERVAL_SEC: flag.int('guards', 60, { min: 5, max: 3600 }, 'Stop validator sweep period.'),
  STOP_LOSS_PCT: flag.num('guards', 3, { min: 0.1, max: 50 }, 'Distance from entry of a repaired stop (%).'),

  // ── strategies, scanner, allocation ──
  TREND_AUTO_TUNE_ENABLED: flag.bool(
    'strategies',
    true,
    'Adjust trend parameters from recent outcomes ([TREND-AUTO]).',
  ),
  SYMBOL_SCANNER_ENABLED: flag.bool(
    'strategies',
    false,
    'Scanner shortlist spawns/stops symbol actors; off = TRADE_SYMBOLS only.',
  ),
  SYMBOL_SCANNER_INTERVAL_SEC: flag.int('strategies', 300, { min: 10, max: 86_400 }, 'Scanner period ([SCAN]).'),
  SYMBOL_SCANNER_TOP_N: flag.int('strategies', 5, { min: 1, max: 500 }, 'Shortlist size per venue.'),
  EVENT_BREAKOUT_ENABLED: flag.bool('strategies', false, 'Trade breakouts triggered by external events.'),
  EVENT_BREAKOUT_DRY_RUN: flag.bool(
    'strategies',
    true,
    'Event breakout logs its orders without sending them. A start with it false (and EVENT_BREAKOUT_ENABLED) after one that was not live opens the 5-minute half-size window.',
  ),
  EVENT_BREAKOUT_METRICS: flag.bool('strategies', true, 'Export event breakout KPI and slippage metrics.'),
  MAKER_MODE: flag.str(
    'trading',
    'off',
    'Maker mode per market: off, shadow (record the post-only alternative at the touch of every taker order and whether it would have filled) or live (post-only orders, taker fallback at MAKER_TIMEOUT_SEC); one mode for every market or spot:<mode>,perp:<mode>. live is refused for spot (runbook: futures only).',
    {
      pattern: MAKER_MODE_PATTERN,
      expected: 'expected off, shadow or live, or per market: spot:<mode>,perp:<mode> (e.g. spot:shadow,perp:live)',
      type: 'off | shadow | live | spot:<mode>,perp:<mode>',
    },
  ),
  MAKER_TIMEOUT_SEC: flag.int(
    'trading',
    30,
    { min: 1, max: 3600 },
    'How long a maker order rests (live) or a shadow post-only alternative is watched before it counts as missed; live falls back to a taker order then.',
  ),
  AUTO_CUTBACK_ENABLED: flag.bool('strategies', true, 'Cut a strategy’s allocation after losses (reduce-only).'),
  RISK_PARITY_ENABLED: flag.bool('strategies', false, 'Weight symbols by inverse volatility within allocations.'),
  PERP_STRATEGIES_ENABLED: flag.bool(
    'strategies',
    false,
    'HMM and trend trade the USDⓈ-M perpetual of each symbol the venue lists (long and short, one-way mode) instead of spot; off = spot, long only.',
  ),
  PERP_MAX_LEVERAGE: flag.int(
    'strategies',
    2,
    { min: 1, max: 20 },
    'Leverage set on every traded perpetual at boot (setLeverage); the liquidation rail assumes it.',
  ),
  PERP_MARGIN_MODE: flag.oneOf(
    'strategies',
    ['cross', 'isolated'],
    'cross',
    'Margin mode set on every traded perpetual at boot (setMarginMode).',
  ),
  PERP_MIN_LIQ_DISTANCE_PCT: flag.num(
    'rails',
    20,
    { min: 1, max: 100 },
    'A perpetual entry is refused when its liquidation price is closer than this to the price (%).',
  ),
  PERP_MAINT_MARGIN_RATE: flag.num(
    'rails',
    0.004,
    { min: 0, max: 0.5 },
    'Maintenance margin rate the liquidation rail uses (Binance first bracket 0.4%).',
  ),
  DEX_EXECUTION_ENABLED: flag.bool(
    'trading',
    false,
    'Route orders to a DEX. Refused at start (true is a startup error): the runbook keeps DEX execution off.',
  ),
  GOLIVE_START_AT: flag.optionalStr(
    'mode',
    'Start of the staged go-live’s 72 hours (`bosun golive`); unset = when live trading first started (kept in LMDB).',
    {
      pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/,
      expected: 'expected an ISO-8601 time with a zone, e.g. 2026-12-07T08:00:00Z',
    },
  ),

  // ── telegram ──
  TELEGRAM_ENABLED: flag.bool('notify', false, 'Send alerts and the digest to Telegram (needs bot token and chat id).'),
  TELEGRAM_BOT_TOKEN: flag.optionalStr('notify', 'Bot API token from @BotFather.', {
    secret: true,
    pattern: /^\d+:[A-Za-z0-9_-]+$/,
    expected: 'expected a bot token like 123456:ABC-DEF…',
    type: 'secret',
  }),
  TELEGRAM_CHAT_ID: flag.optionalStr('notify', 'Chat id (number, or @channel name).', {
    pattern: /^(-?\d+|@[A-Za-z0-9_]{4,})$/,
    expected: 'expected a numeric chat id or @channelname',
  }),
  TELEGRAM_API_ROOT: flag.url(
    'notify',
    'https://api.telegram.org',
    'Bot API base URL (tests point it at a local fake).',
  ),
  DIGEST_INTERVAL_MIN: flag.int('notify', 1440, { min: 1, max: 10_080 }, 'Period of the Telegram digest (minutes).'),

  // ── venues ──
  VENUES: venueList(DEFAULT_VENUES, 'Venues to run (comma list, case-insensitive).'),
  VENUE: venueList(undefined, 'Legacy alias of VENUES (e.g. VENUE=BINANCE); ignored when VENUES is set.'),
  BINANCE_API_KEY: flag.optionalStr('venues', 'Binance API key (live mode).', { secret: true, type: 'secret' }),
  BINANCE_API_SECRET: flag.optionalStr('venues', 'Binance API secret (live mode).', { secret: true, type: 'secret' }),
  KRAKEN_API_KEY: flag.optionalStr('venues', 'Kraken API key (live mode).', { secret: true, type: 'secret' }),
  KRAKEN_API_SECRET: flag.optionalStr('venues', 'Kraken API secret (live mode).', { secret: true, type: 'secret' }),
  BINANCE_TESTNET: flag.bool('venues', false, 'Live mode against the Binance testnet (ccxt sandbox).'),
  BINANCE_BASE_URL: flag.url('venues', undefined, 'Override Binance REST base URL; paper mode refuses non-loopback.'),
  KRAKEN_BASE_URL: flag.url('venues', undefined, 'Override Kraken REST base URL; paper mode refuses non-loopback.'),
  VENUE_CLOCK_OFFSET_MAX_MS: flag.int(
    'venues',
    2_000,
    { min: 100, max: 60_000 },
    'conn:<venue> goes DEGRADED when the venue clock is further than this from ours (timestamps are corrected).',
  ),
  KRAKEN_TIER: flag.oneOf(
    'venues',
    ['starter', 'intermediate', 'pro'],
    'starter',
    'Kraken account tier: sizes the private call counter (15/20/20, decay 0.33/0.5/1 per s) and the account refresh.',
  ),

  // ── simulator ──
  SIM_SEED: flag.int(
    'sim',
    42,
    { min: 0, max: 2 ** 31 - 1 },
    'Seed of the simulator price paths (same seed = same run).',
  ),
  SIM_PORT: flag.int('sim', 0, PORT, 'Simulator listener port on BIND_HOST; 0 = ephemeral.'),
  SIM_PERSIST: flag.bool(
    'sim',
    true,
    'The embedded simulator keeps accounts, orders, trades and its price path under SIM_STATE_DIR and resumes them, so a paper restart reconciles; false = a fresh venue every start.',
  ),

  // ── supervision ──
  RESTART_INTENSITY: flag.int(
    'supervision',
    3,
    { min: 0, max: 1000 },
    'Restarts allowed per RESTART_PERIOD_SEC before escalating.',
  ),
  RESTART_PERIOD_SEC: flag.int('supervision', 60, { min: 1, max: 86_400 }, 'Restart-intensity window.'),
  SHUTDOWN_TIMEOUT_MS: flag.int(
    'supervision',
    10_000,
    { min: 0, max: 300_000 },
    'Graceful shutdown budget for draining the tree.',
  ),
  FAULT_INJECT: flag.oneOf(
    'supervision',
    ['none', 'uncaught_after_ready'],
    'none',
    'Crash drill: uncaught_after_ready throws an uncaught error once ready, to prove the fail-closed exit path.',
  ),
};

/** The env flags whose defaults derive from another flag, with that flag and the suffix. */
const DERIVED = {
  DB_DIR: ['STATE_DIR', 'db'],
  LOG_DIR: ['STATE_DIR', 'logs'],
  RUNTIME_DIR: ['STATE_DIR', 'runtime'],
  PORTFOLIO_PATH: ['STATE_DIR', 'portfolio.json'],
  OPS_TOKEN_PATH: ['STATE_DIR', 'ops_token'],
  SIM_STATE_DIR: ['STATE_DIR', 'sim'],
  STRATEGY_WEIGHTS_PATH: ['OPS_DIR', 'strategy_weights.json'],
  CAPITAL_ALLOCATIONS_PATH: ['OPS_DIR', 'capital_allocations.json'],
  POLICIES_PATH: ['OPS_DIR', 'policies.yaml'],
  HMM_CALIBRATION_PATH: ['OPS_DIR', 'hmm_calibration.json'],
} as const satisfies Record<string, readonly ['STATE_DIR' | 'OPS_DIR', string]>;

type Derived = keyof typeof DERIVED;

const join = (dir: string, name: string) => `${dir.replace(/\/+$/, '') || '/'}/${name}`.replace(/^\/\//, '/');

const FlagsObject = z.object(EnvShape);
type Flags = z.output<typeof FlagsObject>;

/** The env config after defaults, legacy aliases and derived paths are resolved. */
export type EnvConfig = Omit<Flags, Derived | 'VENUE' | 'VENUES'> & {
  [K in Derived]: string;
} & { VENUES: VenueId[] };

function resolve(f: Flags): EnvConfig {
  const { VENUE, ...rest } = f;
  const paths = Object.fromEntries(
    (Object.keys(DERIVED) as Derived[]).map((k) => {
      const [from, suffix] = DERIVED[k];
      return [k, f[k] ?? join(f[from], suffix)];
    }),
  ) as Record<Derived, string>;
  return {
    ...rest,
    ...paths,
    // VENUE is the runbook's legacy single-venue flag; VENUES wins when both are set.
    VENUES: rest.VENUES ?? VENUE ?? (DEFAULT_VENUES.split(',') as VenueId[]),
  };
}

/** Rules across flags; issue paths name the variable the operator has to set. */
function crossRules(c: EnvConfig, ctx: z.RefinementCtx): void {
  if (c.MODE === 'live') {
    if (c.OPS_API_TOKEN === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPS_API_TOKEN'],
        message: 'required when MODE=live (X-Ops-Token secret)',
      });
    } else if (c.OPS_API_TOKEN.length < 16) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPS_API_TOKEN'],
        message: 'must be at least 16 characters when MODE=live',
      });
    }
    for (const v of c.VENUES) {
      const prefix = v.toUpperCase();
      const key = v === 'binance' ? c.BINANCE_API_KEY : c.KRAKEN_API_KEY;
      const secret = v === 'binance' ? c.BINANCE_API_SECRET : c.KRAKEN_API_SECRET;
      if (key === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [`${prefix}_API_KEY`],
          message: `required when MODE=live and VENUES has ${v}`,
        });
      }
      if (secret === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [`${prefix}_API_SECRET`],
          message: `required when MODE=live and VENUES has ${v}`,
        });
      }
    }
  }
  const maker = makerModeProblem(parseMakerMode(c.MAKER_MODE));
  if (maker !== undefined) ctx.addIssue({ code: 'custom', path: ['MAKER_MODE'], message: maker });
  if (c.DEX_EXECUTION_ENABLED)
    ctx.addIssue({
      code: 'custom',
      path: ['DEX_EXECUTION_ENABLED'],
      message:
        'refused: the runbook’s staged go-live keeps DEX execution off ("Keep DEX exec off"); set it to false or unset it',
    });
  if (c.GOLIVE_START_AT !== undefined && !Number.isFinite(Date.parse(c.GOLIVE_START_AT)))
    ctx.addIssue({ code: 'custom', path: ['GOLIVE_START_AT'], message: 'not a valid ISO-8601 time' });
  if (c.TELEGRAM_ENABLED) {
    for (const k of ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID'] as const) {
      if (c[k] === undefined)
        ctx.addIssue({ code: 'custom', path: [k], message: 'required when TELEGRAM_ENABLED=true' });
    }
  }
  const ports = ['OPS_PORT', 'ENGINE_PORT', 'UNIVERSE_PORT', 'SCREENER_PORT', 'SITUATIONS_PORT', 'SIM_PORT'] as const;
  const seen = new Map<number, string>();
  for (const p of ports) {
    const n = c[p];
    if (n === 0) continue; // ephemeral: the OS never hands out the same port twice
    const other = seen.get(n);
    if (other !== undefined) {
      ctx.addIssue({ code: 'custom', path: [p], message: `port ${n} is already used by ${other}` });
    }
    seen.set(n, p);
  }
}

/** The env schema: raw env strings in (empty strings removed), resolved `EnvConfig` out. */
export const EnvSchema = FlagsObject.transform(resolve).superRefine(crossRules);
