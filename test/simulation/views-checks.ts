import type { ReconcileResult } from '../../src/supervisor/trading-port.js';
import type { Simulator } from '../../src/venues/sim/index.js';
import type { CreateOrderRequest } from '../../src/venues/venue-gateway.js';
import type { InvariantId } from './invariants.js';
import type { GovernanceView, Incarnation } from './sut.js';

/**
 * I9–I12: the promises of the parts around the engine (sut-views.ts), each the observable side of one of issue
 * 13's fixes that the engine-only invariants I1–I8 could not see:
 *
 * - **I9** (fix 2, reconciliation fails closed): a reconciliation during which the venue's balances moved between
 *   every pair of reads (the `churn` step) is reported failed, the venue stays unreconciled with its lag growing,
 *   and no entry reaches the venue until a reconciliation succeeds.
 * - **I10** (fix 8, one book): `/status`'s equity, cash and per-asset totals are the ledger's (what the rails and
 *   the breakers use), whatever the venue's last poll said; the drift beside each asset is venue − ledger.
 * - **I11** (fix 9, REDUCING set by the system): while the depeg guard is tripped, every symbol the depeg exit sold
 *   is REDUCING (or stricter), no Bosun entry is left resting there once the halt watch has run, and an
 *   operator's sell of a held asset is never refused `depeg`.
 * - **I12** (fix 10, stops in `GET /orders`): every protective stop resting at the venue is listed by the orders
 *   view with `kind: 'stop'`, and every order of Bosun's journal with `kind: 'order'`.
 * - **I14** (fix 9 for funding trims): once the funding guard's trim of a perpetual was sent, its symbol is
 *   REDUCING (or stricter) while the spike lasts (I2 then refuses every entry there that does not reduce), and the
 *   system's `funding_trim` REDUCING is cleared once the spike ends.
 */
export interface ViewChecksDeps {
  sim: Simulator;
  venue: string;
  apiKey: string;
  node: string;
  fail(inv: InvariantId, step: number, detail: string): void;
}

type StopBook = ReadonlyMap<string, { symbol: string; released: boolean }>;

const OPEN = new Set(['new', 'partially_filled']);
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

export type ViewChecks = ReturnType<typeof createViewChecks>;

export function createViewChecks(d: ViewChecksDeps) {
  const bosunCid = (cid: string) => cid.startsWith(`${d.node}-`);
  /** Balance reads answered while the churn step ran (each followed by a move of the venue's balances). */
  let churnReads = -1;
  /** A move the venue refused (the reconciliation may then have settled, rightly). */
  let churnMissed = false;
  /** The last reconciliation the harness saw failed, and none has succeeded since (I9). */
  let unsettled = false;
  /** Symbols the depeg exit sent a sell for while the guard is tripped (I11). */
  const depegSold = new Set<string>();

  const venueOrders = () => d.sim.state({ venue: 'binance', account: d.apiKey }).orders;
  const worst = (gov: GovernanceView, symbol: string) => {
    const s = [gov.global, gov.venues[d.venue] ?? 'ACTIVE', gov.symbols[`${d.venue}:${symbol}`] ?? 'ACTIVE'];
    return s.includes('HALTED') ? 'HALTED' : s.includes('REDUCING') ? 'REDUCING' : 'ACTIVE';
  };

  return {
    /** I9: the churn step begins (the harness moves the balances after every read answered from now). */
    churnStart(): void {
      churnReads = 0;
      churnMissed = false;
    },
    churnMoved(ok: boolean): void {
      if (!ok) churnMissed = true;
    },
    /** A venue call answered; true when the harness should move the venue's balances now. */
    churnRead(name: string, args: readonly unknown[]): boolean {
      if (churnReads < 0 || name !== 'fetchBalances' || (args[0] ?? 'spot') !== 'spot') return false;
      churnReads += 1;
      return true;
    },
    /** I9: the churned reconciliation's result (undefined: the process died meanwhile). */
    churnEnd(step: number, inc: Incarnation, r: ReconcileResult | undefined): void {
      const reads = churnReads;
      churnReads = -1;
      const v = r?.venues[d.venue];
      if (v === undefined || !inc.alive) return;
      // Three tries of two reads each, every pair split by a move: it cannot have settled.
      if (reads >= 6 && !churnMissed && v.error === undefined)
        d.fail(
          'I9',
          step,
          `reconciliation reported ${d.venue} reconciled though its balances moved in all ${reads} reads`,
        );
      else if (v.error !== undefined && !inc.engine.unreconciledVenues().includes(d.venue))
        d.fail('I9', step, `reconciliation failed (${v.error}) yet ${d.venue} does not count as unreconciled`);
    },
    /** I9: the lag, a moment after a reconciliation that could not settle (`sinceMs` of sim time later). */
    churnLag(step: number, inc: Incarnation, sinceMs: number): void {
      if (!unsettled || !inc.alive) return;
      const lag = inc.engine.reconcileLagSeconds();
      if (lag < sinceMs / 1000)
        d.fail(
          'I9',
          step,
          `reconcile lag ${lag.toFixed(1)} s ${sinceMs} ms after a reconciliation that could not settle`,
        );
    },
    /** Any reconciliation's result: a failure keeps the venue unsettled until one succeeds. */
    reconciled(r: ReconcileResult): void {
      const v = r.venues[d.venue];
      if (v === undefined) return;
      unsettled = v.error !== undefined;
    },
    /** A new incarnation: its boot reconciliation decides (I3 judges creates before it). */
    restarted(): void {
      unsettled = false;
    },

    /** A create handed to the venue (I9: no entry while unsettled; I11: the depeg exit's sells). */
    onCreate(step: number, inc: Incarnation, req: CreateOrderRequest, depeg: boolean): void {
      const reducing = req.side === 'sell' || req.reduceOnly === true;
      if (unsettled && !reducing)
        d.fail(
          'I9',
          step,
          `${req.clientOrderId} (${req.symbol} ${req.side}) sent while ${d.venue}'s reconciliation could not settle`,
        );
      const rec = inc.store.orders.get(req.clientOrderId);
      if (depeg && rec?.strategy === 'depeg') depegSold.add(req.symbol);
    },

    /**
     * I11: the operator resumed a symbol the depeg exit had unwound. An operator may loosen the system's REDUCING
     * (reducing-scopes.ts: only the system never loosens the operator's), so the symbol is the operator's until
     * the exit sells it again (seed 1301, part A path 3398: resumed during the depeg, nothing left to sell).
     */
    operatorResumed(symbol: string): void {
      depegSold.delete(symbol);
    },

    /** I11: the depeg guard re-armed (its REDUCING scopes are the system's to clear). */
    depegEnded(): void {
      depegSold.clear();
    },

    /** I11, once the depeg exit and the halt watch it woke have run. */
    afterDepegExit(step: number, gov: GovernanceView): void {
      for (const symbol of depegSold) {
        const w = worst(gov, symbol);
        if (w === 'ACTIVE')
          d.fail('I11', step, `the depeg exit sold ${symbol} but left its scope ACTIVE (not REDUCING)`);
      }
      for (const o of venueOrders())
        if (OPEN.has(o.status) && bosunCid(o.clientOrderId) && o.side === 'buy' && depegSold.has(o.symbol))
          d.fail(
            'I11',
            step,
            `Bosun entry ${o.clientOrderId} still rests on ${o.symbol}, which the depeg exit unwinds`,
          );
    },
    /** I14: the funding guard's trim of `symbol` was sent; the spike lasts. */
    afterFundingTrim(step: number, gov: GovernanceView, symbol: string): void {
      if (worst(gov, symbol) === 'ACTIVE')
        d.fail(
          'I14',
          step,
          `the funding guard trimmed ${symbol}'s perpetual but left the symbol ACTIVE (not REDUCING)`,
        );
    },
    /** I14: the spike ended and the system reviewed its REDUCING scopes (`reasons`: why each scope is in its state). */
    afterFundingSpikeEnd(step: number, gov: GovernanceView, reasons: ReadonlyMap<string, string>): void {
      for (const [key, why] of reasons)
        if (why === 'funding_trim' && gov.symbols[key] === 'REDUCING')
          d.fail('I14', step, `${key} still REDUCING (funding_trim) after the funding spike ended`);
    },

    /** I11: an operator's sell of a held asset during the depeg, and its answer. */
    depegSell(step: number, symbol: string, answer: { status: string; reason?: string }): void {
      if (answer.status === 'rejected' && answer.reason === 'depeg')
        d.fail('I11', step, `an operator's sell of held ${symbol} was refused 'depeg' (a sell adds no USDT exposure)`);
    },

    /** After every step: I10 (the venue poll, then /status against the ledger) and I12 (the orders view). */
    afterStep(step: number, inc: Incarnation, stops: StopBook, prices: Readonly<Record<string, number>>): void {
      const views = inc.views;
      if (!views || !inc.alive) return;
      const account = d.sim.state({ venue: 'binance', account: d.apiKey }).accounts[0]?.spot ?? {};
      const balances = Object.fromEntries(
        Object.entries(account).map(([a, e]) => [a, { free: e.free, used: e.locked, total: e.free + e.locked }]),
      );
      views.poll(balances, prices, d.sim.now());
      const status = views.accountBook.balances()[d.venue];
      const val = views.ledgerView.valuation().venues[d.venue];
      const ledger = inc.book.balances(d.venue);
      if (val !== undefined && ledger !== undefined) {
        if (!status) d.fail('I10', step, `/status shows no balances for ${d.venue} though the ledger has them`);
        else {
          if (!close(status.equity_usd, val.equityUsd) || !close(status.cash_usd, val.cashUsd))
            d.fail(
              'I10',
              step,
              `/status equity ${status.equity_usd.toFixed(4)} cash ${status.cash_usd.toFixed(4)}, the ledger's ${val.equityUsd.toFixed(4)} ${val.cashUsd.toFixed(4)}`,
            );
          for (const asset of new Set([...Object.keys(ledger), ...Object.keys(status.assets)])) {
            const shown = status.assets[asset];
            const l = ledger[asset] ?? 0;
            const v = balances[asset]?.total ?? 0;
            if (!close(shown?.total ?? 0, l))
              d.fail('I10', step, `/status shows ${asset} ${shown?.total ?? 0}, the ledger holds ${l}`);
            else if (shown && shown.drift !== null && !close(shown.drift, v - l))
              d.fail('I10', step, `/status drift of ${asset} ${shown.drift}, venue − ledger is ${v - l}`);
          }
        }
      }

      const listed = new Map(views.port.listOrders({ limit: 1_000_000 }).map((o) => [o.clientOrderId, o]));
      for (const o of venueOrders()) {
        if (!OPEN.has(o.status)) continue;
        const stop = stops.get(o.clientOrderId);
        if (stop !== undefined && !stop.released) {
          const v = listed.get(o.clientOrderId);
          if (v?.kind !== 'stop')
            d.fail(
              'I12',
              step,
              `protective stop ${o.clientOrderId} on ${o.symbol} rests at the venue, GET /orders ${v ? `shows kind ${v.kind}` : 'does not list it'}`,
            );
        } else if (bosunCid(o.clientOrderId) && inc.store.orders.get(o.clientOrderId) !== undefined) {
          const v = listed.get(o.clientOrderId);
          if (v?.kind !== 'order')
            d.fail(
              'I12',
              step,
              `${o.clientOrderId} rests at the venue, GET /orders ${v ? `shows kind ${v.kind}` : 'does not list it'}`,
            );
        }
      }
    },
  };
}
