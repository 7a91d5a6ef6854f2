/**
 * The instrument catalogue: the underlying assets the price paths drive, and the markets each venue lists on
 * them with their trading rules (tick, lot, minimums, fees). Kraken markets use Kraken's names (XXBT, XBTUSD…).
 */
import type { Venue } from './faults.js';

export type MarketKind = 'spot' | 'perp';

/** An underlying asset with a USD price path. */
export interface AssetDef {
  /** Bosun/Binance code: BTC, ETH, USDT… */
  code: string;
  startUsd: number;
  /** Stablecoins follow a tight mean-reverting path around 1 and have a single regime. */
  stable: boolean;
}

/** One tradable market on one venue. Prices are in `quote`, quantities in `base`. */
export interface MarketDef {
  venue: Venue;
  kind: MarketKind;
  /** Venue id: `BTCUSDT`, Kraken `XXBTZUSD`. */
  id: string;
  /** Kraken altname (`XBTUSD`) and wsname (`XBT/USD`); Binance: the id. */
  altname: string;
  wsname: string;
  /** Venue asset codes (`XXBT`, `ZUSD` on Kraken). */
  baseId: string;
  quoteId: string;
  /** Underlying asset codes (`BTC`, `USD`) used for pricing and balances. */
  base: string;
  quote: string;
  tickSize: number;
  stepSize: number;
  minQty: number;
  maxQty: number;
  minNotional: number;
  makerFee: number;
  takerFee: number;
}

export const CORE_ASSETS: readonly AssetDef[] = [
  { code: 'BTC', startUsd: 60_000, stable: false },
  { code: 'ETH', startUsd: 3_000, stable: false },
  { code: 'SOL', startUsd: 150, stable: false },
  { code: 'BNB', startUsd: 580, stable: false },
  { code: 'XRP', startUsd: 0.6, stable: false },
  { code: 'ADA', startUsd: 0.45, stable: false },
  { code: 'DOGE', startUsd: 0.15, stable: false },
  { code: 'USDT', startUsd: 1, stable: true },
  { code: 'USDC', startUsd: 1, stable: true },
];

/** Kraken's asset ids for underlying codes (X/Z-prefixed legacy ids where Kraken uses them). */
const KRAKEN_ASSET: Record<string, { id: string; altname: string }> = {
  BTC: { id: 'XXBT', altname: 'XBT' },
  ETH: { id: 'XETH', altname: 'ETH' },
  XRP: { id: 'XXRP', altname: 'XRP' },
  DOGE: { id: 'XXDG', altname: 'XDG' },
  USD: { id: 'ZUSD', altname: 'USD' },
};

export function krakenAssetId(code: string): string {
  return KRAKEN_ASSET[code]?.id ?? code;
}

export function krakenAltname(code: string): string {
  return KRAKEN_ASSET[code]?.altname ?? code;
}

/** Underlying code for a Kraken asset id or altname (`XXBT`/`XBT` → BTC). */
export function fromKrakenAsset(id: string): string {
  for (const [code, k] of Object.entries(KRAKEN_ASSET)) if (k.id === id || k.altname === id) return code;
  return id;
}

/** Power of ten at or below `x` (ticks and steps are always powers of ten here). */
function pow10Floor(x: number): number {
  return 10 ** Math.floor(Math.log10(x) + 1e-9);
}

/** Number of decimals of a power-of-ten increment (0.01 → 2, 1 → 0). */
export function decimalsOf(increment: number): number {
  return Math.max(0, -Math.floor(Math.log10(increment) + 1e-9));
}

/** Tick ≈ a millionth of the price (BTC at 60k → 0.01), step ≈ one quote unit of notional (BTC → 0.00001). */
function rulesFor(priceQuote: number, stable: boolean): { tick: number; step: number } {
  if (stable) return { tick: 0.0001, step: 1 };
  const tick = Math.max(1e-8, pow10Floor(priceQuote) / 1e6);
  const step = Math.min(1, Math.max(1e-8, pow10Floor(1 / priceQuote)));
  return { tick, step };
}

interface Pair {
  base: string;
  quote: string;
}

function binanceSpot(p: Pair, assets: Map<string, AssetDef>): MarketDef {
  const price = (assets.get(p.base)?.startUsd ?? 1) / (assets.get(p.quote)?.startUsd ?? 1);
  const { tick, step } = rulesFor(price, assets.get(p.base)?.stable === true);
  const id = `${p.base}${p.quote}`;
  return {
    venue: 'binance',
    kind: 'spot',
    id,
    altname: id,
    wsname: `${p.base}/${p.quote}`,
    baseId: p.base,
    quoteId: p.quote,
    base: p.base,
    quote: p.quote,
    tickSize: tick,
    stepSize: step,
    // Ten steps, so that a quantity can be on-step yet under LOT_SIZE's minimum (a reachable -1013).
    minQty: Math.min(1, step * 10),
    maxQty: 9_000_000,
    minNotional: 5,
    makerFee: 0.001,
    takerFee: 0.001,
  };
}

function binancePerp(p: Pair, assets: Map<string, AssetDef>): MarketDef {
  const spot = binanceSpot(p, assets);
  const minNotional = p.base === 'BTC' ? 100 : p.base === 'ETH' ? 20 : 5;
  const step = Math.max(spot.stepSize, 0.001);
  return {
    ...spot,
    kind: 'perp',
    tickSize: spot.tickSize * 10,
    stepSize: step,
    minQty: step,
    maxQty: 1_000_000,
    minNotional,
    makerFee: 0.0002,
    takerFee: 0.0005,
  };
}

function krakenSpot(p: Pair, assets: Map<string, AssetDef>): MarketDef {
  const price = (assets.get(p.base)?.startUsd ?? 1) / (assets.get(p.quote)?.startUsd ?? 1);
  const stable = assets.get(p.base)?.stable === true || p.base === 'USD';
  const { tick } = rulesFor(price, stable);
  const baseId = krakenAssetId(p.base);
  const quoteId = krakenAssetId(p.quote);
  const legacy = baseId.length === 4 && quoteId.length === 4 && /^[XZ]/.test(baseId) && /^[XZ]/.test(quoteId);
  const altname = `${krakenAltname(p.base)}${krakenAltname(p.quote)}`;
  const minQty = Math.max(1e-8, pow10Floor(0.5 / price) * 10);
  return {
    venue: 'kraken',
    kind: 'spot',
    id: legacy ? `${baseId}${quoteId}` : altname,
    altname,
    wsname: `${krakenAltname(p.base)}/${krakenAltname(p.quote)}`,
    baseId,
    quoteId,
    base: p.base,
    quote: p.quote,
    tickSize: stable ? tick : tick * 10,
    stepSize: 1e-8,
    minQty,
    maxQty: 1e12,
    minNotional: 0.5,
    makerFee: 0.0016,
    takerFee: 0.0026,
  };
}

/** Synthetic alts `ALT1…ALTn` for scale tests; prices spread deterministically over 0.05–500 USD. */
export function extraAltAssets(n: number): AssetDef[] {
  const out: AssetDef[] = [];
  for (let i = 1; i <= n; i++)
    out.push({ code: `ALT${i}`, startUsd: 0.05 * 10 ** (((i * 7919) % 4001) / 1000), stable: false });
  return out;
}

/** Every asset and market of a simulator instance. */
export interface Catalogue {
  assets: AssetDef[];
  markets: MarketDef[];
}

const VOLATILE = ['BTC', 'ETH', 'SOL', 'BNB', 'XRP', 'ADA', 'DOGE'];

/** Builds the catalogue: the core set plus `extraAlts` synthetic alts quoted in USDT (Binance) and USD (Kraken). */
export function buildCatalogue(extraAlts = 0): Catalogue {
  const assets = [...CORE_ASSETS, ...extraAltAssets(extraAlts)];
  const byCode = new Map(assets.map((a) => [a.code, a]));
  byCode.set('USD', { code: 'USD', startUsd: 1, stable: true });
  const alts = assets.filter((a) => a.code.startsWith('ALT')).map((a) => a.code);
  const markets: MarketDef[] = [];
  const bSpot: Pair[] = [
    ...[...VOLATILE, ...alts].map((b) => ({ base: b, quote: 'USDT' })),
    { base: 'BTC', quote: 'USDC' },
    { base: 'ETH', quote: 'USDC' },
    { base: 'USDT', quote: 'USDC' },
  ];
  for (const p of bSpot) markets.push(binanceSpot(p, byCode));
  for (const b of [...VOLATILE, ...alts]) markets.push(binancePerp({ base: b, quote: 'USDT' }, byCode));
  const kSpot: Pair[] = [
    ...[...VOLATILE.filter((b) => b !== 'BNB'), ...alts].map((b) => ({ base: b, quote: 'USD' })),
    { base: 'BTC', quote: 'USDT' },
    { base: 'BTC', quote: 'USDC' },
    { base: 'ETH', quote: 'USDT' },
    { base: 'USDT', quote: 'USD' },
    { base: 'USDC', quote: 'USD' },
    { base: 'USDC', quote: 'USDT' },
  ];
  for (const p of kSpot) markets.push(krakenSpot(p, byCode));
  return { assets, markets };
}
