import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StopValidator } from '../../src/actors/stop-validator.actors.js';
import type { VenueId } from '../../src/domain/ids.js';
import type { Logger } from '../../src/logging/logger.js';
import type { GovernanceState, TradingState } from '../../src/machines/governance.machine.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import type { FaultInput, Simulator } from '../../src/venues/sim/index.js';
import type { CreateOrderRequest } from '../../src/venues/venue-gateway.js';
import { type Checker, createChecker, type Violation } from './invariants.js';
import {
  fundingPaid,
  fundingSpikePlan,
  guardCoverage,
  notePerpCreate,
  PERP_SETTINGS,
  type PerpStop,
  perpCoverage,
  perpStopsReleased,
  perpsOpen,
  protectPerps,
  toNextFunding,
} from './perp-steps.js';
import { hasPerps, type Schedule, type ScopeRef, type Step } from './schedule.js';
import { type GovernanceView, type Incarnation, type SutEnv, startIncarnation } from './sut.js';
import { createViewChecks } from './views-checks.js';

/** Shared by every seed of one test file: one simulator (a fresh account per seed), metrics and a silent log. */
export interface World {
  sim: Simulator;
  symbols: readonly string[];
  metrics: Metrics;
  log: Logger;
}

const VENUE: VenueId = 'binance';
const NODE = 'sim';
/** How many times a flow waits for a restart before it gives up (a boot that keeps dying). */
const MAX_REBOOTS = 4;

const FAULTS: Record<Extract<Step, { t: 'fault' }>['kind'], FaultInput> = {
  disconnect: { kind: 'disconnect' },
  accept_then_502: { kind: 'accept_then_502' },
  http_429: { kind: 'http_429', retryAfterSec: 0 },
  reject: { kind: 'venue_error', code: -2010, msg: 'Account has insufficient balance for requested action.' },
  http_5xx: { kind: 'http_5xx', status: 503 },
  hang: { kind: 'hang' },
};

/** What the campaign reached beyond the perpetuals (perp-steps.ts): printed per file, required from 100 seeds. */
export const campaignCoverage = {
  /** Bosun buys booked after another client's trades landed in their flight (I1 takes those trades out). */
  thirdPartyInFlight: 0,
  /** Drawdown steps that left auto-cutback at its floor at the limit (global REDUCING, I15). */
  cutbackReducing: 0,
  /** Drawdown steps that cleared auto-cutback's global REDUCING (the multiplier rose). */
  cutbackCleared: 0,
};

export function campaignCoverageLine(): string {
  const c = campaignCoverage;
  return `  I1 with another client's trades Bosun had not seen: ${c.thirdPartyInFlight} buys; auto-cutback REDUCING: ${c.cutbackReducing} entered/held, ${c.cutbackCleared} cleared`;
}

/** Runs one schedule on a fresh account and state directory; returns every invariant violation seen. */
export async function runSchedule(world: World, schedule: Schedule): Promise<Violation[]> {
  const { sim } = world;
  const symbols = world.symbols.slice(0, schedule.config.symbols);
  const symOf = (i: number) => symbols[i % symbols.length] as string;
  // Sim time moves past the venue's rate-limit windows between seeds; faults of an earlier seed are gone.
  sim.advance(61_000);
  sim.faults.clear();
  const perps = hasPerps(schedule.steps);
  if (perps) perpCoverage.seeds += 1;
  const keys = sim.createAccount('binance', {
    spot: { USDT: 10_000 },
    ...(perps ? { futures: { USDT: 10_000 } } : {}),
  });
  const account = sim.state({ venue: 'binance', account: keys.apiKey }).accounts[0]?.id as string;
  const fair = (symbol: string) => Number(sim.prices('binance')[`binance:spot:${symbol}`]);
  if (schedule.config.tradeBeforeBoot) {
    const s = symOf(0);
    sim.placeOrder({
      venue: 'binance',
      apiKey: keys.apiKey,
      symbol: s,
      side: 'buy',
      type: 'market',
      qty: 25 / fair(s),
    });
  }

  const cfg = schedule.config;
  const limits = {
    maxNotionalUsdt: cfg.maxNotionalUsdt,
    maxSymbolExposureUsdt: cfg.maxNotionalUsdt * cfg.symbolCapX,
    maxVenueExposureUsdt: cfg.maxNotionalUsdt * cfg.venueCapX,
    maxAssetExposureUsdt: cfg.maxNotionalUsdt * cfg.assetCapX,
    equityFloorUsd: 0,
    maxDrawdownPct: 100,
    equityCooldownSec: 0,
    orderCooldownSec: 0,
  };
  const gov: GovernanceView = { global: 'ACTIVE', venues: {}, symbols: {} };
  /** Why each scope is in its state ('global', venue, `venue:SYMBOL`): the system clears only its own REDUCING. */
  const reasons = new Map<string, string>();
  const scopeKey = (r: ScopeRef) => (r.kind === 'symbol' ? `${VENUE}:${symOf(r.sym)}` : VENUE);
  const setScope = (r: ScopeRef, state: TradingState) => {
    if (r.kind === 'global') gov.global = state;
    else if (r.kind === 'venue') gov.venues[scopeKey(r)] = state;
    else gov.symbols[scopeKey(r)] = state;
    reasons.set(r.kind === 'global' ? 'global' : scopeKey(r), 'operator');
  };
  /** The depeg guard is tripped (I11). */
  let depeg = false;
  /** Perpetuals the funding guard sees spiking (I14). */
  const spiking = new Set<string>();

  /** The venue's prices per base asset (what the account actor values its poll with). */
  const basePrices = () => Object.fromEntries(symbols.map((s) => [s.replace(/USDT$/, ''), fair(s)]));

  function notePrices(cur: Incarnation): void {
    for (const s of symbols) cur.engine.notePrice(VENUE, s, fair(s));
  }

  let skewMs = 0;
  const now = () => sim.now() + skewMs;
  const dirs: string[] = [];
  const freshDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'bosun-sim-'));
    dirs.push(d);
    return d;
  };
  let dir = freshDir();

  const checker: Checker = createChecker({
    sim,
    venue: VENUE,
    account,
    apiKey: keys.apiKey,
    node: NODE,
    symbols,
    limits,
  });
  let stepNo = 0;

  // The stop validator's protective stops (the harness plays it) and the hold on its next release.
  const stops = new Map<string, PerpStop>();
  let stopSeq = 0;
  let holdRelease = false;
  const heldReleases: Array<() => void> = [];
  /** Kills to acknowledge when the order path next awaits a stop release. */
  const killsOnRelease: Array<() => void> = [];

  const viewChecks = createViewChecks({ sim, venue: VENUE, apiKey: keys.apiKey, node: NODE, fail: checker.fail });
  /** The symbol another client trades during the churn step, and its next side. */
  let churnSym = symbols[0] as string;
  let churnBuy = true;
  const scopeState = (key: string, state: TradingState) => ({
    state,
    reason: reasons.get(key) ?? 'operator',
    by: 'sim',
    at: 0,
    command: 'sim',
  });
  const governanceState = (): GovernanceState => ({
    global: scopeState('global', gov.global),
    venues: Object.fromEntries(Object.entries(gov.venues).map(([k, v]) => [k, scopeState(k, v)])),
    symbols: Object.fromEntries(Object.entries(gov.symbols).map(([k, v]) => [k, scopeState(k, v)])),
  });
  /** The harness's stop book as the stop validator shows it (`view`, `book`: what GET /orders reads). */
  const stopValidator = () =>
    ({
      view: () => ({
        venue: VENUE,
        positions: [...stops.entries()]
          .filter(([, st]) => !st.released)
          .map(([cid, st]) => ({
            symbol: st.symbol,
            qty: st.qty,
            entryPrice: 0,
            stop: {
              clientOrderId: cid,
              generation: 0,
              status: 'live',
              qty: st.qty,
              stopPrice: st.stopPrice,
              venueOrderId: st.venueOrderId,
            },
            unprotectedSince: null,
          })),
      }),
      book: () => ({ gen: 0, stops: {}, firstSeen: {}, entries: {}, adopted: {}, ownedIds: [] }),
    }) as unknown as StopValidator;

  const env: SutEnv = {
    sim,
    venue: VENUE,
    keys,
    symbols,
    node: NODE,
    limits,
    minTradeUsdt: 10,
    metrics: world.metrics,
    log: world.log,
    now,
    governance: () => gov,
    haltVenue: (venue) => {
      gov.venues[venue] = 'HALTED';
    },
    stops: {
      owns: (_venue, o) => [...stops.entries()].some(([cid, s]) => cid === o.clientOrderId || s.venueOrderId === o.id),
      async release(_venue, symbol, gateway) {
        // A spot sell releases the spot stops only (a perpetual's is reduce-only and locks nothing).
        const mine = [...stops.entries()].filter(([, s]) => s.symbol === symbol && !s.released && s.market !== 'perp');
        for (const kill of killsOnRelease.splice(0)) kill();
        if (mine.length === 0) return;
        if (holdRelease) {
          holdRelease = false;
          await new Promise<void>((r) => heldReleases.push(r));
        }
        for (const [cid, s] of mine) {
          s.released = true;
          await gateway.cancelOrder({ symbol, clientOrderId: cid });
        }
      },
    },
    onCreate: (inc: Incarnation, req: CreateOrderRequest) => {
      notePerpCreate(req);
      checker.onCreate(stepNo, inc, gov, req, genOf(inc));
      viewChecks.onCreate(stepNo, inc, req, depeg);
    },
    onIntent: (_inc: Incarnation, cid: string) => checker.onIntent(cid),
    onCrash: () => viewChecks.restarted(),
    views: {
      governance: governanceState,
      setTrading(cmd) {
        const key = cmd.scope === 'global' ? 'global' : String(cmd.key);
        if (cmd.scope === 'global') gov.global = cmd.state;
        else if (cmd.scope === 'venue') gov.venues[key] = cmd.state;
        else gov.symbols[key] = cmd.state;
        reasons.set(key, cmd.reason);
        inc.onGovernance();
      },
      stillNeeded: (reason, key) =>
        reason === 'depeg_exit' ? depeg : reason === 'funding_trim' ? spiking.has(key.slice(VENUE.length + 1)) : true,
      stopValidator,
      depeg: () => depeg,
      fundingSpike: (symbol) => spiking.has(symbol),
    },
    onAnswer: (_inc, name, args) => {
      if (viewChecks.churnRead(name, args)) viewChecks.churnMoved(churnMove());
    },
    onReconciled: (_inc, r) => {
      checker.reconciled(r);
      viewChecks.reconciled(r);
    },
    ...(perps ? { perps: PERP_SETTINGS } : {}),
  };

  /**
   * The state directory (1-based generation) each incarnation runs on: a crash armed with a fresh directory
   * replaces `dir` at once, but the incarnation still alive until the crash fires sends from the old one.
   */
  const gens = new Map<number, number>();
  const genOf = (i: Incarnation) => gens.get(i.id) ?? dirs.length;
  const start = async (): Promise<Incarnation> => {
    const gen = dirs.length;
    const next = await startIncarnation(env, dir);
    gens.set(next.id, gen);
    return next;
  };
  let inc = await start();
  notePrices(inc);
  await inc.boot;
  let rebooting: Promise<Incarnation> | undefined;
  /** Set by a crash step: the next restart is held in boot reconciliation (the steps after it run meanwhile). */
  let stallNextBoot = false;
  /** Set by a crash step armed for a later venue call: the restart after it opens an empty state dir. */
  let freshOnRestart = false;
  /** At quiescence nothing is held any more. */
  let quiescing = false;
  /**
   * The live incarnation; a dead one is replaced (the supervisor restarts the process) and its boot recovery
   * awaited, unless the schedule stalls it.
   */
  const alive = async (): Promise<Incarnation> => {
    if (inc.alive) return inc;
    const dead = inc;
    rebooting ??= (async () => {
      // The old process is gone (its LMDB environment closed) before the new one opens the directory.
      await dead.crash();
      if (freshOnRestart) {
        freshOnRestart = false;
        dir = freshDir();
      }
      return start();
    })().then(async (next) => {
      inc = next;
      // The tick router feeds every incarnation prices from its first ticks.
      notePrices(next);
      if (stallNextBoot && !quiescing) {
        stallNextBoot = false;
        next.gate.holdWhen(() => next.engine.accepting() && !next.reconciled);
        await Promise.race([next.gate.whenHeld(), next.boot]);
      } else await next.boot;
      rebooting = undefined;
      return next;
    });
    return rebooting;
  };
  const ready = async (): Promise<Incarnation | undefined> => {
    for (let i = 0; i < MAX_REBOOTS; i++) {
      const cur = await alive();
      if (quiescing) releaseAll(cur);
      await cur.boot;
      if (cur.alive && cur.engine.accepting()) return cur;
    }
    return undefined;
  };
  const flows: Promise<void>[] = [];
  let opSeq = 0;

  async function operator(step: Extract<Step, { t: 'operator' }>): Promise<void> {
    const symbol = symOf(step.sym);
    const key = `k${++opSeq}`;
    const px = fair(symbol);
    const req = {
      venue: VENUE,
      symbol,
      side: step.side,
      quote: step.quote,
      ...(step.limitPct === null ? {} : { type: 'limit' as const, price: px * (1 + step.limitPct / 100) }),
      actor: `op-${key}`,
      idempotency: { key, hash: `${symbol}|${step.side}|${step.quote}|${step.limitPct}` },
    };
    const once = async (cur: Incarnation): Promise<'answered' | 'died'> => {
      const r = await Promise.race([
        cur.submitOperator(req).then(
          (v) => ({ v }),
          () => ({ v: undefined }),
        ),
        cur.dead.then(() => undefined),
      ]);
      if (r === undefined) return 'died';
      if (r.v?.order && (r.v.status === 'accepted' || r.v.status === 'unknown'))
        checker.acknowledged(r.v.order.clientOrderId, genOf(cur));
      return 'answered';
    };
    let cur = await ready();
    if (!cur) return;
    if (step.retry === 'after_crash') cur.gate.armCrash(step.crashAt, step.forwarded);
    const first = await once(cur);
    if (step.retry === 'none') return;
    if (first === 'answered' && step.retry === 'after_crash') cur.gate.disarm();
    // The client retries once it has given up on the answer: the first order has settled by then.
    if (first === 'answered') await idle(cur);
    cur = await ready();
    if (cur) await once(cur);
  }

  async function exec(step: Step): Promise<void> {
    const cur = await alive();
    // A venue's clock never stands still between two things happening (a boot's baseline read and the next manual
    // trade are not in the same millisecond): the manual clock moves 1 ms per step, below any price step.
    sim.advance(1);
    switch (step.t) {
      case 'signals':
        for (const i of step.syms) cur.signal(symOf(i), fair(symOf(i)), step.signal);
        return;
      case 'operator':
        flows.push(operator(step));
        return;
      case 'kill': {
        if (perps && perpsOpen(sim, keys.apiKey)) perpCoverage.killsWithPerpsOpen += 1;
        const kill = () => {
          setScope(step.scope, step.state);
          inc.onGovernance();
        };
        if (step.during !== 'next_stop_release') kill();
        else killsOnRelease.push(kill);
        return;
      }
      case 'resume':
        setScope(step.scope, 'ACTIVE');
        if (step.scope.kind === 'symbol') viewChecks.operatorResumed(symOf(step.scope.sym));
        cur.onGovernance();
        return;
      case 'advance':
        sim.advance(step.ms);
        notePrices(cur);
        return;
      case 'price': {
        const s = symOf(step.sym);
        sim.setPrice({ venue: 'binance', symbol: s, price: fair(s) * (1 + step.pct / 100) });
        sim.advance(1_000);
        notePrices(cur);
        return;
      }
      case 'manual':
        manual(step);
        return;
      case 'fault':
        sim.faults.add({
          ...FAULTS[step.kind],
          venue: 'binance',
          ...(step.on === 'create' ? { path: '/api/v3/order', method: 'POST' as const } : {}),
          count: step.count,
        } as FaultInput);
        return;
      case 'crash':
        stallNextBoot = step.stallBoot;
        if (step.at === 0) {
          await cur.crash();
          if (step.fresh) dir = freshDir();
          await alive();
        } else {
          cur.gate.armCrash(step.at, step.forwarded);
          // The empty state dir is the restart's: creates the armed process still sends belong to its own dir.
          freshOnRestart = step.fresh;
        }
        return;
      case 'fatal':
        if (perps && perpsOpen(sim, keys.apiKey)) perpCoverage.killsWithPerpsOpen += 1;
        // The commit guard halts trading durably before it exits.
        gov.global = 'HALTED';
        await Promise.race([cur.fatal(), cur.dead]);
        await alive();
        return;
      case 'protect':
        for (const s of symbols) protect(cur, s);
        if (perps)
          protectPerps({
            sim,
            apiKey: keys.apiKey,
            symbols,
            inc: cur,
            stops,
            next: () => `validator_pstop_${++stopSeq}`,
          });
        return;
      case 'hold':
        if (step.what === 'create') cur.gate.hold();
        else holdRelease = true;
        return;
      case 'release':
        releaseAll(cur);
        return;
      case 'settle':
        await idle(cur);
        return;
      case 'reconcile':
        // In the background: it joins a boot reconciliation the schedule may be holding.
        flows.push(
          Promise.race([
            cur.reconcile().then(
              () => {},
              () => {},
            ),
            cur.dead,
          ]),
        );
        return;
      case 'perp_signals':
        for (const i of step.syms) {
          const s = symOf(i);
          cur.signal(s, Number(sim.prices('binance')[`binance:perp:${s}`] ?? fair(s)), step.signal);
        }
        return;
      case 'funding':
        sim.advance(toNextFunding(sim.now()));
        notePrices(cur);
        return;
      case 'churn': {
        // Judged only on a booted process (a stalled boot's reconciliation is held by the schedule).
        if (!cur.alive || !cur.reconciled || !cur.engine.accepting()) return;
        churnSym = symOf(step.sym);
        viewChecks.churnStart();
        const r = await Promise.race([cur.reconcile().catch(() => undefined), cur.dead.then(() => undefined)]);
        viewChecks.churnEnd(stepNo, cur, r);
        sim.advance(1_000);
        viewChecks.churnLag(stepNo, cur, 1_000);
        return;
      }
      case 'depeg': {
        depeg = true;
        // The guard's exit pass runs now unless the schedule holds a create or a stop release (it would wait on it).
        if (!cur.alive || !cur.engine.accepting() || !cur.views || holdRelease || cur.gate.holding()) return;
        const symbol = symOf(step.sym);
        if (cur.book.balance(VENUE, symbol.replace(/USDT$/, '')) * fair(symbol) >= 33) {
          const r = await Promise.race([
            cur
              .submitOperator({ venue: VENUE, symbol, side: 'sell', quote: 30, actor: 'op-depeg' })
              .catch(() => undefined),
            cur.dead.then(() => undefined),
          ]);
          if (r) viewChecks.depegSell(stepNo, symbol, r);
        }
        await Promise.race([cur.views.depegExit('depeg_exit').catch(() => 0), cur.dead]);
        await idle(cur);
        if (cur.alive) viewChecks.afterDepegExit(stepNo, gov);
        return;
      }
      case 'funding_spike': {
        // The guard's trim runs now unless the schedule holds a create (it would wait on it).
        if (!perps || !cur.alive || !cur.engine.accepting() || !cur.views || cur.gate.holding()) return;
        const symbol = symOf(step.sym);
        // A spike matters to a position: without one, a perpetual bar close on the symbol opens it first.
        if (fundingSpikePlan(sim, keys.apiKey, symbol) === undefined) {
          cur.signal(symbol, Number(sim.prices('binance')[`binance:perp:${symbol}`] ?? fair(symbol)), 1);
          await idle(cur);
        }
        const plan = fundingSpikePlan(sim, keys.apiKey, symbol);
        if (plan === undefined || !cur.alive) return;
        spiking.add(symbol);
        const r = await Promise.race([cur.views.fundingTrim(plan).catch(() => undefined), cur.dead]);
        await idle(cur);
        if (r?.trimmed !== true || !cur.alive) return;
        guardCoverage.fundingTrims += 1;
        viewChecks.afterFundingTrim(stepNo, gov, symbol);
        return;
      }
      case 'funding_spike_end':
        spiking.clear();
        if (!cur.alive || !cur.views) return;
        await cur.views.reviewReducing();
        viewChecks.afterFundingSpikeEnd(stepNo, gov, reasons);
        return;
      case 'drawdown': {
        // The trading loop ticks a second later (auto-cutback's restoration runs on that clock).
        sim.advance(1_000);
        notePrices(cur);
        if (!cur.alive || !cur.views) return;
        const max = limits.maxDrawdownPct;
        const dd = (step.pct / 100) * max;
        const wasCutback = gov.global === 'REDUCING' && reasons.get('global') === 'auto_cutback';
        await cur.views.cutbackTick(dd);
        const atFloor = cur.views.cutbackAtFloor();
        const cutbackReducing = gov.global === 'REDUCING' && reasons.get('global') === 'auto_cutback';
        if (atFloor && dd >= max) {
          campaignCoverage.cutbackReducing += 1;
          // Only an ACTIVE global is moved (an operator's REDUCING or HALTED is left as it is, and is as strict).
          if (gov.global === 'ACTIVE')
            checker.fail('I15', stepNo, `auto-cutback at its floor at a ${dd}% drawdown left global ACTIVE`);
        }
        if (!atFloor && cutbackReducing)
          checker.fail('I15', stepNo, 'global still REDUCING (auto_cutback) after the multiplier rose above its floor');
        if (wasCutback && !cutbackReducing) campaignCoverage.cutbackCleared += 1;
        return;
      }
      case 'depeg_end': {
        depeg = false;
        viewChecks.depegEnded();
        if (!cur.alive || !cur.views) return;
        await cur.views.reviewReducing();
        for (const [key, why] of reasons) {
          const state = key === 'global' ? gov.global : (gov.symbols[key] ?? gov.venues[key]);
          if (why === 'depeg_exit' && state === 'REDUCING')
            checker.fail('I11', stepNo, `${key} still REDUCING (depeg_exit) after the depeg guard re-armed`);
        }
        return;
      }
    }
  }

  /** Another client trades on the account (I9's churn); true when the venue's balances moved. */
  function churnMove(): boolean {
    const symbol = churnSym;
    const px = fair(symbol);
    const qty = 25 / px;
    const free = venueAccount()?.spot[symbol.replace(/USDT$/, '')]?.free ?? 0;
    const side = churnBuy || free < qty ? 'buy' : 'sell';
    churnBuy = side === 'sell';
    try {
      sim.placeOrder({ venue: 'binance', apiKey: keys.apiKey, symbol, side, type: 'market', qty });
      return true;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      return false;
    }
  }

  function releaseAll(cur: Incarnation): void {
    holdRelease = false;
    for (const r of heldReleases.splice(0)) r();
    cur.gate.release();
  }

  function venueAccount() {
    return sim.state({ venue: 'binance', account: keys.apiKey }).accounts[0];
  }

  function manual(step: Extract<Step, { t: 'manual' }>): void {
    const symbol = symOf(step.sym);
    const base = symbol.replace(/USDT$/, '');
    const px = fair(symbol);
    const free = venueAccount()?.spot[base]?.free ?? 0;
    try {
      if (step.kind === 'market_sell')
        sim.placeOrder({ venue: 'binance', apiKey: keys.apiKey, symbol, side: 'sell', type: 'market', qty: free / 2 });
      else if (step.kind === 'market_buy')
        sim.placeOrder({ venue: 'binance', apiKey: keys.apiKey, symbol, side: 'buy', type: 'market', qty: 30 / px });
      else if (step.kind === 'limit_sell_above')
        sim.placeOrder({
          venue: 'binance',
          apiKey: keys.apiKey,
          symbol,
          side: 'sell',
          type: 'limit',
          qty: free / 2,
          price: px * 1.2,
        });
      else
        sim.placeOrder({
          venue: 'binance',
          apiKey: keys.apiKey,
          symbol,
          side: 'buy',
          type: 'limit',
          qty: 20 / (px * 0.8),
          price: px * 0.8,
        });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
    }
  }

  function protect(cur: Incarnation, symbol: string): void {
    const base = symbol.replace(/USDT$/, '');
    if ([...stops.values()].some((s) => s.symbol === symbol && !s.released)) return;
    const held = Math.min(cur.book.strategyPosition(VENUE, symbol), venueAccount()?.spot[base]?.free ?? 0);
    if (!(held > 0)) return;
    const cid = `validator_stop_${++stopSeq}`;
    try {
      const o = sim.placeOrder({
        venue: 'binance',
        apiKey: keys.apiKey,
        symbol,
        side: 'sell',
        type: 'stop_loss',
        qty: held,
        stopPrice: fair(symbol) * 0.7,
        clientOrderId: cid,
      });
      stops.set(cid, {
        symbol,
        venueOrderId: o.venueOrderId,
        released: false,
        qty: held,
        stopPrice: fair(symbol) * 0.7,
      });
      checker.noteStop(cid);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
    }
  }

  /** Nothing in flight: no venue call unanswered, no store write uncommitted, for two turns of the event loop. */
  async function idle(cur: Incarnation): Promise<void> {
    let quiet = 0;
    for (let turns = 0; turns < 10_000 && quiet < 2 && cur.alive; turns++) {
      await cur.gate.drained();
      await cur.written();
      await new Promise<void>((r) => setImmediate(r));
      quiet = cur.busy() === 0 ? quiet + 1 : 0;
    }
  }

  try {
    if (cfg.warm) {
      await exec({ t: 'signals', syms: symbols.map((_, i) => i), signal: 1 });
      await exec({ t: 'settle' });
      await exec({ t: 'protect' });
      perpStopsReleased(sim, keys.apiKey, stops);
      checker.afterStep(0, inc, stops);
      viewChecks.afterStep(0, inc, stops, basePrices());
    }
    for (const [i, step] of schedule.steps.entries()) {
      stepNo = i + 1;
      await exec(step);
      perpStopsReleased(sim, keys.apiKey, stops);
      checker.afterStep(stepNo, inc, stops);
      viewChecks.afterStep(stepNo, inc, stops, basePrices());
    }
    // Quiescence: nothing held, no crash armed, no fault left; every client flow answered; a live, booted
    // process; the accept windows of every unknown create closed; one reconciliation.
    stepNo = schedule.steps.length + 1;
    quiescing = true;
    // A kill waiting for a stop release that never came is acknowledged now.
    for (const kill of killsOnRelease.splice(0)) kill();
    releaseAll(inc);
    inc.gate.disarm();
    sim.faults.clear();
    await Promise.all(flows);
    const cur = await ready();
    if (cur) {
      releaseAll(cur);
      await idle(cur);
      skewMs += 60_000;
      await Promise.race([cur.reconcile().catch(() => {}), cur.dead]);
      await idle(cur);
      perpStopsReleased(sim, keys.apiKey, stops);
      checker.afterStep(stepNo, cur, stops);
      viewChecks.afterStep(stepNo, cur, stops, basePrices());
      checker.atQuiescence(stepNo, cur, stops, dirs.length);
      if (perps) perpCoverage.fundingPayments += fundingPaid(sim, keys.apiKey);
    } else checker.fail('I3', stepNo, 'the process never finished boot recovery at quiescence');
    campaignCoverage.thirdPartyInFlight += checker.inFlightDiscounts();
    return checker.violations();
  } finally {
    releaseAll(inc);
    await inc.crash();
    if (rebooting) await (await rebooting).crash();
    sim.faults.clear();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
