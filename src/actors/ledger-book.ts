import { applyFillTo, emptyLedger, type Fill, type Ledger, valueLedger, withBaseline } from '../domain/portfolio.js';
import type { Json, KvStore } from '../store/index.js';

/**
 * Who a fill's position change belongs to. `strategies` (signal-driven: HMM, trend, breakout) and `executor`
 * (allocation rebalancing) each trade their own position. `guard` is a risk order (depeg exit, funding, stop,
 * cutback): a buy adds to the strategies', a sell reduces the strategies' position first and the executor's with
 * what is left, the way the guards size their sells against both (`ownedPosition`). `hedge` is the funding
 * guard's spot hedge: a position of its own that no strategy signal sizes against or sells, unwound by its end rule.
 */
export type PositionOwner = 'strategies' | 'executor' | 'guard' | 'hedge';

/**
 * The portfolio ledger as LMDB holds it (`portfolio` database): one key per venue with its balances, one key per
 * applied trade (so a fill is applied exactly once, whichever path sees it first), and Bosun's own positions per
 * symbol, by owner: the strategies' and the executor's, kept apart so neither sizes against (or sells) what the
 * other bought, and neither ever sells an operator's holdings.
 *
 * Every write for one fill is issued in the same synchronous block, so lmdb-js puts them in the same transaction
 * as the journal entry written beside them: after a crash the ledger, the applied-trade set and the journal agree.
 */
export interface LedgerBook {
  ledger(): Ledger;
  hasTrade(venue: string, tradeId: string): boolean;
  /** Sets a venue's balances (first-boot baseline or an operator-edited portfolio.json); durable on resolve. */
  baseline(venue: string, balances: Record<string, number>, at: number): Promise<void>;
  hasVenue(venue: string): boolean;
  /**
   * When the venue's balances were last taken as the baseline (epoch ms; 0: never). A manual trade from before it
   * is already in those balances: reconciliation must not apply it again (a fresh state directory replayed the
   * last 10 minutes of trades on top of the first-boot balances and halted the venue).
   */
  baselineAt(venue: string): number;
  /**
   * How far the venue's trade history is accounted for (epoch ms; 0: not recorded, a store from before): the start
   * of the last reconciliation that left no difference, or the last baseline. Reconciliation reads trades from here
   * (less a margin), not from the latest fill: Bosun's own fills settle without reading anyone else's trades, and a
   * cursor they moved skipped a manual trade made while reconciliation was failing (halting the venue for good).
   */
  reconciledThrough(venue: string): number;
  /** Records that the venue's balances were explained at `at`: its trades before it are in the ledger. */
  markReconciled(venue: string, at: number): Promise<void>;
  /** The ledger's balance of one asset on a venue (0 when none). */
  balance(venue: string, asset: string): number;
  /** A copy of one venue's balances (undefined before its baseline). */
  balances(venue: string): Record<string, number> | undefined;
  /**
   * Applies a fill once; returns the durable-commit promise, or null when it was already applied. `owner` null:
   * not Bosun's position (an operator's order, a manual trade).
   */
  apply(fill: Fill, owner: PositionOwner | null): Promise<void> | null;
  /** Base quantity the strategies hold on a venue's symbol (≥ 0). */
  strategyPosition(venue: string, symbol: string): number;
  /** Base quantity the executor holds on a venue's symbol (≥ 0). */
  executorPosition(venue: string, symbol: string): number;
  /** Base quantity the funding hedge holds on a venue's symbol (≥ 0). */
  hedgePosition(venue: string, symbol: string): number;
  /** Everything Bosun holds for its own trading on a venue's symbol: strategies + executor (what guards protect). */
  ownedPosition(venue: string, symbol: string): number;
  valuation(prices: Record<string, number>): ReturnType<typeof valueLedger>;
}

/** A venue's baseline (balances, applied-trade count, cursor): written by `baseline`, the format of old stores. */
const ledgerKey = (venue: string) => `ledger:${venue}`;
/** One asset's balance as fills since the baseline left it: a fill rewrites only the assets it touched. */
const balPrefix = (venue: string) => `bal:${venue}:`;
const balKey = (venue: string, asset: string) => `${balPrefix(venue)}${asset}`;
/** The applied-trade count and cursor as fills since the baseline left them. */
const metaKey = (venue: string) => `lmeta:${venue}`;
/** When the venue's balances were last set as a baseline. */
const baselineAtKey = (venue: string) => `lbase:${venue}`;
/** Up to when the venue's trades are in the ledger (a clean reconciliation's start, or a baseline). */
const reconciledKey = (venue: string) => `lrec:${venue}`;
const tradeKey = (venue: string, id: string) => `trade:${venue}:${id}`;
/** The strategies' position (the key predates owners: a store from before holds every Bosun position here). */
const posKey = (venue: string, symbol: string) => `pos:${venue}:${symbol}`;
const execPosKey = (venue: string, symbol: string) => `xpos:${venue}:${symbol}`;
const hedgePosKey = (venue: string, symbol: string) => `hpos:${venue}:${symbol}`;

type VenueLedger = Ledger['venues'][string];

/** A copy deep enough that later fills (which mutate the book's own balances) never change what a caller holds. */
function copyLedger(l: Ledger): Ledger {
  const venues: Record<string, VenueLedger> = {};
  for (const [v, x] of Object.entries(l.venues)) venues[v] = { ...x, balances: { ...x.balances } };
  return { venues };
}

/**
 * Loads one venue: its baseline, then the per-asset balances and counters fills wrote after it. A store written
 * before per-asset keys existed has only the baseline key, which then holds everything.
 */
function loadVenue(kv: KvStore, venue: string): VenueLedger | undefined {
  const stored = kv.get<VenueLedger & Json>(ledgerKey(venue)) as VenueLedger | undefined;
  const balKeys = kv.keys(balPrefix(venue));
  const meta = kv.get<{ appliedTrades: number; lastTradeAt: number } & Json>(metaKey(venue));
  if (!stored && balKeys.length === 0 && !meta) return undefined;
  const v: VenueLedger = {
    balances: { ...(stored?.balances ?? {}) },
    appliedTrades: meta?.appliedTrades ?? stored?.appliedTrades ?? 0,
    lastTradeAt: meta?.lastTradeAt ?? stored?.lastTradeAt ?? 0,
  };
  for (const key of balKeys) v.balances[key.slice(balPrefix(venue).length)] = Number(kv.get(key));
  return v;
}

export function createLedgerBook(kv: KvStore, venues: readonly string[]): LedgerBook {
  // The book's own copy, mutated in place by fills (O(1) per fill at any number of assets); `ledger()` hands out
  // copies, `baseline` replaces a venue whole.
  const ledger: Ledger = emptyLedger();
  for (const v of venues) {
    const loaded = loadVenue(kv, v);
    if (loaded) ledger.venues[v] = loaded;
  }
  // Trades applied in this process: an async put is not visible to reads until it commits, and two paths (the
  // order's own settlement and a reconciliation) may see the same trade inside one commit window.
  const applied = new Set<string>();
  const positions = new Map<string, number>();
  for (const key of [...kv.keys('pos:'), ...kv.keys('xpos:'), ...kv.keys('hpos:')])
    positions.set(key, Number(kv.get(key)) || 0);
  const held = (key: string) => positions.get(key) ?? 0;

  return {
    ledger: () => copyLedger(ledger),
    hasVenue: (v) => ledger.venues[v] !== undefined,
    baselineAt: (v) => Number(kv.get(baselineAtKey(v)) ?? 0) || 0,
    reconciledThrough: (v) => Number(kv.get(reconciledKey(v)) ?? 0) || 0,
    async markReconciled(venue, at) {
      if (at > (Number(kv.get(reconciledKey(venue)) ?? 0) || 0)) await kv.put(reconciledKey(venue), at);
    },
    balance: (v, asset) => ledger.venues[v]?.balances[asset] ?? 0,
    balances: (v) => {
      const b = ledger.venues[v]?.balances;
      return b ? { ...b } : undefined;
    },
    hasTrade: (venue, id) => applied.has(tradeKey(venue, id)) || kv.get(tradeKey(venue, id)) !== undefined,
    async baseline(venue, balances, at) {
      const next = withBaseline(ledger, venue, balances).venues[venue] as VenueLedger;
      next.lastTradeAt = Math.max(next.lastTradeAt, at);
      ledger.venues[venue] = { ...next, balances: { ...next.balances } };
      // One synchronous block, so one transaction: the baseline replaces whatever fills wrote before it.
      const writes: Promise<unknown>[] = [kv.put(ledgerKey(venue), next)];
      for (const key of kv.keys(balPrefix(venue))) writes.push(kv.delete(key));
      writes.push(kv.put(metaKey(venue), { appliedTrades: next.appliedTrades, lastTradeAt: next.lastTradeAt }));
      writes.push(kv.put(baselineAtKey(venue), at));
      writes.push(kv.put(reconciledKey(venue), at));
      await Promise.all(writes);
    },
    apply(fill, owner) {
      const tk = tradeKey(fill.venue, fill.tradeId);
      if (applied.has(tk) || kv.get(tk) !== undefined) return null;
      let v = ledger.venues[fill.venue];
      // Validate before anything changes: applyFillTo throws on a bad fill, so it first runs on a scratch copy of
      // just the assets a fill can touch (a copy of every balance would make each fill O(assets)).
      const balances: Record<string, number> = {};
      for (const a of [fill.base, fill.quote, ...(fill.fee ? [fill.fee.currency] : [])]) {
        const b = v?.balances[a];
        if (b !== undefined) balances[a] = b;
      }
      const touched = applyFillTo(balances, fill);
      applied.add(tk);
      if (!v) {
        v = { balances: {}, appliedTrades: 0, lastTradeAt: 0 };
        ledger.venues[fill.venue] = v;
      }
      for (const asset of touched) v.balances[asset] = balances[asset] as number;
      v.appliedTrades += 1;
      v.lastTradeAt = Math.max(v.lastTradeAt, fill.at);
      const writes: Promise<void>[] = [
        kv.put(metaKey(fill.venue), { appliedTrades: v.appliedTrades, lastTradeAt: v.lastTradeAt }),
        kv.put(tk, { at: fill.at, clientOrderId: fill.clientOrderId }),
      ];
      for (const asset of touched) writes.push(kv.put(balKey(fill.venue, asset), v.balances[asset]));
      const move = (k: string, delta: number): number => {
        const before = held(k);
        const next = Math.max(0, before + delta);
        positions.set(k, next);
        writes.push(kv.put(k, next));
        return next - before;
      };
      const strat = posKey(fill.venue, fill.symbol);
      const exec = execPosKey(fill.venue, fill.symbol);
      // The base the fill really moved: a fee the venue takes in the base asset (Binance spot takes a buy's fee
      // in what it buys) is not held. Counting the order amount made a position larger than the balance, and a
      // sell of the whole position was refused by the venue at every bar.
      const baseFee = fill.fee !== null && fill.fee.currency === fill.base ? fill.fee.cost : 0;
      const qty = fill.side === 'buy' ? Math.max(0, fill.amount - baseFee) : fill.amount + baseFee;
      const delta = fill.side === 'buy' ? qty : -qty;
      if (owner === 'executor') move(exec, delta);
      else if (owner === 'hedge') move(hedgePosKey(fill.venue, fill.symbol), delta);
      else if (owner === 'strategies' || (owner === 'guard' && delta > 0)) move(strat, delta);
      else if (owner === 'guard') {
        // A guard's sell: the strategies' position first, what it could not take from the executor's.
        const rest = held(strat) > 0 ? qty + move(strat, delta) : qty;
        if (rest > 0 && held(exec) > 0) move(exec, -rest);
      }
      return Promise.all(writes).then(() => undefined);
    },
    strategyPosition: (venue, symbol) => held(posKey(venue, symbol)),
    executorPosition: (venue, symbol) => held(execPosKey(venue, symbol)),
    hedgePosition: (venue, symbol) => held(hedgePosKey(venue, symbol)),
    ownedPosition: (venue, symbol) => held(posKey(venue, symbol)) + held(execPosKey(venue, symbol)),
    valuation: (prices) => valueLedger(ledger, prices),
  };
}
