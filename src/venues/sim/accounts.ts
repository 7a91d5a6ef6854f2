/**
 * Paper accounts: API keys, spot balances (free/locked), the USDⓈ-M futures wallet with its positions,
 * leverage settings and income log, and Kraken's last nonce. One default account per venue is seeded at start;
 * more can be created through the control API (each with its own keys, e.g. one per process for Kraken nonces).
 */
import { randomBytes } from 'node:crypto';
import { clean, cleanAdd } from '../../domain/precision.js';
import type { Venue } from './faults.js';

export interface ApiKeyPair {
  apiKey: string;
  secret: string;
}

export interface SpotBalance {
  free: number;
  locked: number;
}

export interface Position {
  /** Signed base quantity: > 0 long, < 0 short (one-way mode). */
  qty: number;
  entryPrice: number;
  updateTime: number;
  /** ISOLATED: the margin the position holds (its isolated wallet); absent in cross mode. */
  isolatedMargin?: number;
}

export interface IncomeRecord {
  tranId: number;
  symbol: string;
  incomeType: 'FUNDING_FEE' | 'REALIZED_PNL' | 'COMMISSION';
  income: number;
  asset: string;
  time: number;
  /** The funding rate applied (FUNDING_FEE only). */
  rate?: number;
}

/** Seeded paper balances by venue (underlying codes: BTC, USD…). */
/**
 * What `npm start` (paper mode, embedded simulator) gives each account: the same cash as DEFAULT_BALANCES, and
 * small holdings that sit under the default exposure caps (MAX_SYMBOL_EXPOSURE_USDT 1,000, MAX_ASSET_EXPOSURE_USDT
 * 2,500, MAX_VENUE_EXPOSURE_USDT 5,000). With the test default of 2 BTC and 20 ETH per account the rails refused
 * every entry (`asset_exposure`), so a fresh paper Bosun could not trade, nor take the runbook's 25 USDT test order.
 */
export const PAPER_BALANCES: Record<Venue, Record<string, number>> = {
  binance: { USDT: 100_000, USDC: 20_000, BTC: 0.005, ETH: 0.05, BNB: 0.5 },
  kraken: { USD: 100_000, USDT: 50_000, USDC: 20_000, BTC: 0.005, ETH: 0.05 },
};

export const DEFAULT_BALANCES: Record<Venue, { spot: Record<string, number>; futures: Record<string, number> }> = {
  binance: {
    spot: { USDT: 100_000, USDC: 20_000, BTC: 2, ETH: 20, BNB: 10 },
    futures: { USDT: 100_000 },
  },
  kraken: {
    spot: { USD: 100_000, USDT: 50_000, USDC: 20_000, BTC: 2, ETH: 20 },
    futures: {},
  },
};

export const DEFAULT_LEVERAGE = 5;
export const MAX_LEVERAGE = 5;

export class Account {
  readonly spot = new Map<string, SpotBalance>();
  readonly wallet = new Map<string, number>();
  readonly positions = new Map<string, Position>();
  readonly leverage = new Map<string, number>();
  /** Margin type per perpetual (absent: CROSSED, Binance's default for a new account). */
  readonly marginType = new Map<string, 'CROSSED' | 'ISOLATED'>();
  readonly income: IncomeRecord[] = [];
  /** Kraken: the highest nonce accepted so far. */
  lastNonce = -1n;
  /**
   * A Binance key without the "Enable Futures" permission (a spot-only key): every USDⓈ-M signed endpoint answers
   * 401 -2015, as the real venue does; spot works.
   */
  spotOnly = false;
  updateTime = 0;

  constructor(
    readonly id: string,
    readonly venue: Venue,
    readonly keys: ApiKeyPair,
  ) {}

  balance(asset: string): SpotBalance {
    let b = this.spot.get(asset);
    if (b === undefined) {
      b = { free: 0, locked: 0 };
      this.spot.set(asset, b);
    }
    return b;
  }

  /** Adds (or, negative, removes) free balance. */
  credit(asset: string, amount: number): void {
    const b = this.balance(asset);
    b.free = cleanAdd(b.free, amount);
  }

  /** Moves free → locked. */
  lock(asset: string, amount: number): void {
    const b = this.balance(asset);
    b.free = cleanAdd(b.free, -amount);
    b.locked = cleanAdd(b.locked, amount);
  }

  /** Moves locked → free. */
  unlock(asset: string, amount: number): void {
    const b = this.balance(asset);
    b.locked = Math.max(0, cleanAdd(b.locked, -amount));
    b.free = cleanAdd(b.free, amount);
  }

  /** Spends from locked funds (a fill of a resting order). */
  spendLocked(asset: string, amount: number): void {
    const b = this.balance(asset);
    b.locked = Math.max(0, cleanAdd(b.locked, -amount));
  }

  walletBalance(asset = 'USDT'): number {
    return this.wallet.get(asset) ?? 0;
  }

  creditWallet(asset: string, amount: number): void {
    this.wallet.set(asset, clean(this.walletBalance(asset) + amount));
  }

  marginTypeOf(symbol: string): 'CROSSED' | 'ISOLATED' {
    return this.marginType.get(symbol) ?? 'CROSSED';
  }

  leverageOf(symbol: string): number {
    return this.leverage.get(symbol) ?? DEFAULT_LEVERAGE;
  }

  /** Replaces balances (control API); locked funds are kept as they are tied to open orders. */
  setSpot(balances: Record<string, number>): void {
    for (const [asset, free] of Object.entries(balances)) this.balance(asset).free = clean(free);
  }

  setWallet(balances: Record<string, number>): void {
    for (const [asset, v] of Object.entries(balances)) this.wallet.set(asset, clean(v));
  }
}

function newKeys(venue: Venue): ApiKeyPair {
  return venue === 'binance'
    ? { apiKey: randomBytes(32).toString('hex'), secret: randomBytes(32).toString('hex') }
    : { apiKey: randomBytes(42).toString('base64'), secret: randomBytes(64).toString('base64') };
}

export class AccountBook {
  private readonly byKey = new Map<string, Account>();
  private seq = 0;

  /** `now` stamps account updates (ccxt skips USDⓈ-M assets whose updateTime is 0). */
  constructor(private readonly now: () => number = () => 0) {}

  /** Creates an account with given (or generated) keys and the venue's seeded balances unless told otherwise. */
  create(
    venue: Venue,
    keys?: Partial<ApiKeyPair>,
    balances?: { spot?: Record<string, number>; futures?: Record<string, number> },
  ): Account {
    const k = { ...newKeys(venue), ...stripUndefined(keys) };
    if (this.byKey.has(k.apiKey)) throw new RangeError('an account with this API key already exists');
    const a = new Account(`${venue}-${++this.seq}`, venue, k);
    a.setSpot(balances?.spot ?? DEFAULT_BALANCES[venue].spot);
    a.setWallet(balances?.futures ?? DEFAULT_BALANCES[venue].futures);
    a.updateTime = this.now();
    this.byKey.set(k.apiKey, a);
    return a;
  }

  get(apiKey: string): Account | undefined {
    return this.byKey.get(apiKey);
  }

  byId(id: string): Account | undefined {
    for (const a of this.byKey.values()) if (a.id === id) return a;
    return undefined;
  }

  all(venue?: Venue): Account[] {
    return [...this.byKey.values()].filter((a) => venue === undefined || a.venue === venue);
  }

  clear(): void {
    this.byKey.clear();
    this.seq = 0;
  }

  /** The id counter, for persistence. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Puts back an account read from persisted state (its id, keys and every balance as they were). */
  restore(a: Account, seq: number): void {
    if (this.byKey.has(a.keys.apiKey)) throw new RangeError('an account with this API key already exists');
    this.byKey.set(a.keys.apiKey, a);
    this.seq = Math.max(this.seq, seq);
  }
}

function stripUndefined(k: Partial<ApiKeyPair> | undefined): Partial<ApiKeyPair> {
  const out: Partial<ApiKeyPair> = {};
  if (k?.apiKey !== undefined) out.apiKey = k.apiKey;
  if (k?.secret !== undefined) out.secret = k.secret;
  return out;
}
