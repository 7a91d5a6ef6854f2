/**
 * The simulator's state as plain JSON, and back: accounts (keys, balances, the futures wallet, positions,
 * leverage, income, Kraken's last nonce), every order (open and closed, with its clientOrderId), every trade, the
 * id counters and the price path's position (origin, seed, step). What a venue keeps across its own restarts;
 * faults, scenarios, book consumption and request counters are the test harness's and start afresh.
 */
import { Account, type AccountBook, type IncomeRecord, type Position } from './accounts.js';
import type { Venue } from './faults.js';
import type { MarketKind } from './instruments.js';
import type { Market } from './market.js';
import type { MatchingEngine } from './matching-engine.js';
import type { SimOrder, SimTrade } from './order-store.js';

export const SNAPSHOT_FORMAT = 1;

export interface MarketShape {
  seed: number;
  originMs: number;
  stepMs: number;
  fundingIntervalMs: number;
  extraAlts: number;
}

interface AccountJson {
  id: string;
  venue: Venue;
  keys: { apiKey: string; secret: string };
  spot: Array<[asset: string, free: number, locked: number]>;
  wallet: Array<[asset: string, amount: number]>;
  positions: Array<[symbol: string, position: Position]>;
  leverage: Array<[symbol: string, leverage: number]>;
  /** Absent in snapshots from before margin types: every symbol CROSSED. */
  marginType?: Array<[symbol: string, type: 'CROSSED' | 'ISOLATED']>;
  income: IncomeRecord[];
  lastNonce: string;
  updateTime: number;
  /** A spot-only key stays one across a restart (absent in older snapshots: full permissions). */
  spotOnly?: boolean;
}

type OrderJson = Omit<SimOrder, 'account' | 'market'> & {
  account: string;
  market: { venue: Venue; kind: MarketKind; id: string };
};

type TradeJson = Omit<SimTrade, 'order'> & { order: number };

export interface SimSnapshot extends MarketShape {
  format: typeof SNAPSHOT_FORMAT;
  savedAt: number;
  step: number;
  counters: { seq: number; tradeSeq: number; tranSeq: number };
  accountSeq: number;
  /** API keys of the default paper account of each venue. */
  defaults: Record<Venue, string>;
  accounts: AccountJson[];
  orders: OrderJson[];
  trades: TradeJson[];
}

function accountJson(a: Account): AccountJson {
  return {
    id: a.id,
    venue: a.venue,
    keys: { ...a.keys },
    spot: [...a.spot].map(([asset, b]) => [asset, b.free, b.locked]),
    wallet: [...a.wallet],
    positions: [...a.positions].map(([s, p]) => [s, { ...p }]),
    leverage: [...a.leverage],
    marginType: [...a.marginType],
    income: a.income.map((r) => ({ ...r })),
    lastNonce: a.lastNonce.toString(),
    updateTime: a.updateTime,
    ...(a.spotOnly ? { spotOnly: true } : {}),
  };
}

/** The whole state as JSON-ready data (orders oldest first, trades in id order). */
export function takeSnapshot(p: {
  shape: MarketShape;
  market: Market;
  engine: MatchingEngine;
  accounts: AccountBook;
  defaults: Record<Venue, string>;
  now: number;
}): SimSnapshot {
  const orders = p.engine.store.all().sort((x, y) => x.seq - y.seq);
  return {
    format: SNAPSHOT_FORMAT,
    ...p.shape,
    savedAt: p.now,
    step: p.market.currentStep,
    counters: p.engine.counters(),
    accountSeq: p.accounts.lastSeq,
    defaults: { ...p.defaults },
    accounts: p.accounts.all().map(accountJson),
    orders: orders.map(({ account, market, ...o }) => ({
      ...o,
      tradeIds: [...o.tradeIds],
      extra: { ...o.extra },
      account: account.id,
      market: { venue: market.venue, kind: market.kind, id: market.id },
    })),
    trades: p.engine.store.trades.map(({ order, ...t }) => ({ ...t, order: order.seq })),
  };
}

/** A persisted state that cannot be put back as it was (a venue never forgets an order). */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

/** Puts a snapshot back into a fresh market, engine and account book (created with the snapshot's shape). */
export function restoreSnapshot(
  s: SimSnapshot,
  p: { market: Market; engine: MatchingEngine; accounts: AccountBook },
): void {
  if (s.format !== SNAPSHOT_FORMAT) throw new SnapshotError(`unknown simulator state format ${String(s.format)}`);
  for (const j of s.accounts) {
    const a = new Account(j.id, j.venue, { ...j.keys });
    for (const [asset, free, locked] of j.spot) a.spot.set(asset, { free, locked });
    for (const [asset, v] of j.wallet) a.wallet.set(asset, v);
    for (const [sym, pos] of j.positions) a.positions.set(sym, { ...pos });
    for (const [sym, lev] of j.leverage) a.leverage.set(sym, lev);
    for (const [sym, t] of j.marginType ?? []) a.marginType.set(sym, t);
    a.income.push(...j.income);
    a.lastNonce = BigInt(j.lastNonce);
    a.spotOnly = j.spotOnly === true;
    a.updateTime = j.updateTime;
    p.accounts.restore(a, s.accountSeq);
  }
  const bySeq = new Map<number, SimOrder>();
  for (const j of s.orders) {
    const account = p.accounts.byId(j.account);
    const market = p.market.market(j.market.venue, j.market.kind, j.market.id);
    if (account === undefined) throw new SnapshotError(`order ${j.seq}: unknown account ${j.account}`);
    if (market === undefined)
      throw new SnapshotError(`order ${j.seq}: market ${j.market.venue} ${j.market.kind} ${j.market.id} not listed`);
    const o: SimOrder = { ...j, account, market, tradeIds: [...j.tradeIds], extra: { ...j.extra } };
    bySeq.set(o.seq, o);
    p.engine.store.add(o);
  }
  for (const j of s.trades) {
    const order = bySeq.get(j.order);
    if (order === undefined) throw new SnapshotError(`trade ${j.id}: unknown order ${j.order}`);
    p.engine.store.trades.push({ ...j, order });
  }
  p.engine.restoreCounters(s.counters);
  p.market.resumeAt(s.step);
}
