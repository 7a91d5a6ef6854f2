import fc from 'fast-check';

/**
 * A schedule: what happens to the money path, step by step, built by fast-check from one seed (and shrunk by it
 * when an invariant fails). Symbols are indices into the campaign's symbol list so a shrunk schedule stays valid.
 */
export type ScopeRef = { kind: 'global' } | { kind: 'venue' } | { kind: 'symbol'; sym: number };

export type Step =
  /** A bar closes on several symbols in the same turn: one strategy signal each (engine.onSignal). */
  | { t: 'signals'; syms: number[]; signal: number }
  /** An operator order; `retry`: the client sends the same request again with the same Idempotency-Key. */
  | {
      t: 'operator';
      sym: number;
      side: 'buy' | 'sell';
      quote: number;
      /** Limit price offset from the market in % (negative: below); null = market order. */
      limitPct: number | null;
      retry: 'none' | 'after_answer' | 'after_crash';
      /** For `after_crash`: the process dies at this venue call from now (forwarded = it lands). */
      crashAt: number;
      forwarded: boolean;
    }
  /**
   * A kill (or REDUCING) of a scope. `during`: acknowledged now, or at the moment the order path next awaits the
   * stop validator's release of a protective stop (the last await before a strategy sell goes out).
   */
  | { t: 'kill'; scope: ScopeRef; state: 'HALTED' | 'REDUCING'; during: 'now' | 'next_stop_release' }
  | { t: 'resume'; scope: ScopeRef }
  /** Sim time moves (prices step, resting orders may fill). */
  | { t: 'advance'; ms: number }
  /** A symbol's price jumps by `pct` % (resting limit orders cross). */
  | { t: 'price'; sym: number; pct: number }
  /** Someone trades on the venue's web page (non-Bosun clientOrderId). */
  | { t: 'manual'; sym: number; kind: 'market_sell' | 'market_buy' | 'limit_buy_below' | 'limit_sell_above' }
  | {
      t: 'fault';
      kind: 'disconnect' | 'accept_then_502' | 'http_429' | 'reject' | 'http_5xx' | 'hang';
      /** `create`: only order creates; `any`: every call of the venue (reads too). */
      on: 'create' | 'any';
      count: number;
    }
  /**
   * The process is killed at the n-th venue call from now (0 = now); `fresh`: it restarts on an empty state dir;
   * `stallBoot`: the restart's first venue read once it accepts orders is held, so the next steps run during boot.
   */
  | { t: 'crash'; at: number; forwarded: boolean; fresh: boolean; stallBoot: boolean }
  /** The fatal path (a failed commit: emergency cancel, exit), then a restart. */
  | { t: 'fatal' }
  /** The stop validator puts a protective stop under every position of the strategies still unprotected. */
  | { t: 'protect' }
  /** Hold the next create on the wire, or the next stop release, until `release`. */
  | { t: 'hold'; what: 'create' | 'stop_release' }
  | { t: 'release' }
  /** Wait until nothing is in flight (venue calls answered, intents resolved or sent). */
  | { t: 'settle' }
  | { t: 'reconcile' }
  // Steps for I9–I11 (views-checks.ts): the parts around the engine (sut-views.ts).
  /** A reconciliation now, while another client trades `sym` on the account after every balance read (I9). */
  | { t: 'churn'; sym: number }
  /** The depeg guard trips: an operator sells some of `sym` (held), then the depeg exit runs (I11). */
  | { t: 'depeg'; sym: number }
  /** The depeg guard re-arms; the trading loop reviews the system's REDUCING scopes. */
  | { t: 'depeg_end' }
  /**
   * A bar close whose signal trades the symbols' perpetuals (PERP_STRATEGIES_ENABLED): long, short, or a
   * reduce-only exit toward flat. A schedule with any perpetual step runs with perpetuals on (`hasPerps`).
   */
  | { t: 'perp_signals'; syms: number[]; signal: number }
  /** Sim time moves to the next funding settlement (every perpetual position pays or earns). */
  | { t: 'funding' }
  /**
   * The funding guard sees a spike on `sym`'s perpetual (the side held pays): it trims the position reduce-only
   * and puts the symbol in REDUCING (I14) until `funding_spike_end`. Without a position, a perpetual bar close
   * (signal 1) on the symbol opens one first.
   */
  | { t: 'funding_spike'; sym: number }
  /** The funding spike ends; the trading loop reviews the system's REDUCING scopes. */
  | { t: 'funding_spike_end' }
  /**
   * A second of the trading loop with the equity drawdown at `pct` % of the breaker's limit: auto-cutback observes
   * it (cut at once, restored a second later when healthy) and the system enters or leaves global REDUCING (I15).
   */
  | { t: 'drawdown'; pct: number };

/** A schedule with a perpetual step runs with PERP_STRATEGIES_ENABLED, a futures wallet and the perp book. */
export function hasPerps(steps: readonly Step[]): boolean {
  return steps.some((s) => s.t === 'perp_signals' || s.t === 'funding' || s.t === 'funding_spike');
}

export interface SimConfig {
  /** Symbols traded, from the campaign's list. */
  symbols: number;
  maxNotionalUsdt: number;
  /** Caps as multiples of maxNotional. */
  symbolCapX: number;
  venueCapX: number;
  assetCapX: number;
  /** A manual trade on the account before Bosun's first boot. */
  tradeBeforeBoot: boolean;
  /**
   * Start from positions: a bar close buys every symbol, it settles, and the stop validator protects them (so
   * sells, stop releases and the fatal path have something to act on from the first step).
   */
  warm: boolean;
}

export interface Schedule {
  config: SimConfig;
  steps: Step[];
}

const sym = (n: number) => fc.nat({ max: n - 1 });

function scopeArb(n: number): fc.Arbitrary<ScopeRef> {
  return fc.oneof(
    fc.constant<ScopeRef>({ kind: 'global' }),
    fc.constant<ScopeRef>({ kind: 'venue' }),
    sym(n).map((s): ScopeRef => ({ kind: 'symbol', sym: s })),
  );
}

/** One step; `n` symbols. Weights favour the money flow (signals, operator orders) over disruptions. */
export function stepArb(n: number): fc.Arbitrary<Step> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('signals' as const),
        syms: fc.uniqueArray(sym(n), { minLength: 1, maxLength: n }),
        signal: fc.constantFrom(0, 0, 0.5, 1),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('operator' as const),
        sym: sym(n),
        side: fc.constantFrom('buy' as const, 'buy' as const, 'sell' as const),
        quote: fc.constantFrom(30, 45, 60),
        limitPct: fc.option(fc.constantFrom(-3, -1, 1), { nil: null, freq: 2 }),
        retry: fc.constantFrom('none' as const, 'none' as const, 'after_answer' as const, 'after_crash' as const),
        crashAt: fc.integer({ min: 1, max: 3 }),
        forwarded: fc.boolean(),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('kill' as const),
        scope: scopeArb(n),
        state: fc.constantFrom('HALTED' as const, 'HALTED' as const, 'REDUCING' as const),
        during: fc.constantFrom('now' as const, 'next_stop_release' as const),
      }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('resume' as const), scope: scopeArb(n) }) },
    {
      weight: 2,
      arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.constantFrom(1_000, 5_000, 30_000, 900_000) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ t: fc.constant('price' as const), sym: sym(n), pct: fc.constantFrom(-4, -2, 2, 4) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('manual' as const),
        sym: sym(n),
        kind: fc.constantFrom(
          'market_sell' as const,
          'market_buy' as const,
          'limit_buy_below' as const,
          'limit_sell_above' as const,
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('fault' as const),
        kind: fc.constantFrom(
          'disconnect' as const,
          'accept_then_502' as const,
          'accept_then_502' as const,
          'http_429' as const,
          'reject' as const,
          'http_5xx' as const,
          'hang' as const,
        ),
        on: fc.constantFrom('create' as const, 'create' as const, 'any' as const),
        count: fc.integer({ min: 1, max: 2 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('crash' as const),
        at: fc.integer({ min: 0, max: 6 }),
        forwarded: fc.boolean(),
        fresh: fc.constantFrom(false, false, false, true),
        stallBoot: fc.boolean(),
      }),
    },
    { weight: 2, arbitrary: fc.constant({ t: 'fatal' as const }) },
    { weight: 2, arbitrary: fc.constant({ t: 'protect' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('hold' as const),
        what: fc.constantFrom('create' as const, 'stop_release' as const),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ t: 'release' as const }) },
    { weight: 2, arbitrary: fc.constant({ t: 'settle' as const }) },
    { weight: 1, arbitrary: fc.constant({ t: 'reconcile' as const }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('churn' as const), sym: sym(n) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('depeg' as const), sym: sym(n) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'depeg_end' as const }) },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('perp_signals' as const),
        syms: fc.uniqueArray(sym(n), { minLength: 1, maxLength: n }),
        signal: fc.constantFrom(-1, -0.5, 0, 0.5, 1),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ t: 'funding' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({ t: fc.constant('drawdown' as const), pct: fc.constantFrom(0, 50, 100, 150) }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('funding_spike' as const), sym: sym(n) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'funding_spike_end' as const }) },
  );
}

export function scheduleArb(maxSymbols: number, maxSteps: number): fc.Arbitrary<Schedule> {
  return fc
    .record({
      symbols: fc.integer({ min: 2, max: Math.min(4, maxSymbols) }),
      maxNotionalUsdt: fc.constantFrom(40, 60, 80),
      symbolCapX: fc.constantFrom(1.5, 2, 3),
      venueCapX: fc.constantFrom(2, 3, 5),
      assetCapX: fc.constantFrom(1.5, 2, 3),
      tradeBeforeBoot: fc.constantFrom(false, false, false, true),
      warm: fc.boolean(),
    })
    .chain((config) =>
      fc.array(stepArb(config.symbols), { minLength: 1, maxLength: maxSteps }).map((steps) => ({ config, steps })),
    );
}

/** One line per step, the way a person would say it. */
export function describeStep(s: Step, symbols: readonly string[]): string {
  const name = (i: number) => symbols[i] ?? `#${i}`;
  const scope = (r: ScopeRef) => (r.kind === 'symbol' ? `symbol ${name(r.sym)}` : r.kind);
  switch (s.t) {
    case 'signals':
      return `bar close: signal ${s.signal} on ${s.syms.map(name).join(', ')}`;
    case 'operator':
      return `operator ${s.side} ${s.quote} USDT ${name(s.sym)} ${s.limitPct === null ? 'market' : `limit ${s.limitPct}%`}${
        s.retry === 'none'
          ? ''
          : s.retry === 'after_answer'
            ? ', client retries after the answer'
            : `, process dies at venue call ${s.crashAt} (${s.forwarded ? 'it lands' : 'not sent'}), client retries`
      }`;
    case 'kill':
      return `${s.state === 'HALTED' ? 'kill' : 'REDUCING'} ${scope(s.scope)}${s.during === 'now' ? '' : ', acknowledged while the next stop release is in flight'}`;
    case 'resume':
      return `resume ${scope(s.scope)}`;
    case 'advance':
      return `sim time +${s.ms} ms`;
    case 'price':
      return `${name(s.sym)} price ${s.pct > 0 ? '+' : ''}${s.pct}%`;
    case 'manual':
      return `manual ${s.kind.replaceAll('_', ' ')} on ${name(s.sym)} (venue web page)`;
    case 'fault':
      return `venue fault ${s.kind} ×${s.count} on ${s.on === 'create' ? 'order creates' : 'every call'}`;
    case 'crash':
      return `kill -9 ${s.at === 0 ? 'now' : `at venue call ${s.at} (${s.forwarded ? 'it lands' : 'not sent'})`}${s.fresh ? ', restart on an empty state dir' : ''}${s.stallBoot ? ', the restart stalls in boot reconciliation' : ''}`;
    case 'fatal':
      return 'fatal path (emergency cancel, exit), restart';
    case 'protect':
      return 'stop validator protects every position';
    case 'hold':
      return `hold the next ${s.what === 'create' ? 'create on the wire' : 'stop release'}`;
    case 'release':
      return 'release what is held';
    case 'settle':
      return 'settle (wait until nothing is in flight)';
    case 'reconcile':
      return 'reconcile';
    case 'churn':
      return `reconcile while another client trades ${name(s.sym)} between every balance read`;
    case 'depeg':
      return `depeg guard trips: operator sells 30 USDT of ${name(s.sym)}, then the depeg exit runs`;
    case 'depeg_end':
      return 'depeg guard re-arms (the system reviews its REDUCING scopes)';
    case 'perp_signals':
      return `bar close (perpetuals): signal ${s.signal} on ${s.syms.map(name).join(', ')}`;
    case 'funding':
      return 'sim time to the next funding settlement';
    case 'funding_spike':
      return `funding spike on ${name(s.sym)}'s perpetual (opened first if flat): the funding guard trims the side that pays`;
    case 'funding_spike_end':
      return 'funding spike ends (the system reviews its REDUCING scopes)';
    case 'drawdown':
      return `a second later, equity drawdown at ${s.pct}% of the breaker's limit (auto-cutback observes it)`;
  }
}

export function describeSchedule(s: Schedule, symbols: readonly string[]): string {
  const c = s.config;
  const head = `config: ${c.symbols} symbols (${symbols.slice(0, c.symbols).join(', ')}), MAX_NOTIONAL ${c.maxNotionalUsdt}, caps symbol ×${c.symbolCapX} venue ×${c.venueCapX} asset ×${c.assetCapX}${c.tradeBeforeBoot ? ', a manual trade before the first boot' : ''}${c.warm ? ', warm start (a position in every symbol, protected by a stop)' : ''}`;
  return [head, ...s.steps.map((st, i) => `  ${String(i + 1).padStart(2)}. ${describeStep(st, symbols)}`)].join('\n');
}
