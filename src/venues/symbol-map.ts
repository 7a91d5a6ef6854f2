/**
 * Bosun names a market `BASEQUOTE` (`BTCUSDT`, Kraken `BTCUSD`); ccxt names it `BTC/USDT` (spot) or
 * `BTC/USDT:USDT` (USDⓈ-M perpetual). The same Bosun symbol exists in both kinds, so every lookup is by
 * (symbol, kind). Built from ccxt's loaded markets, so Kraken's `XXBTZUSD`/`XBT` aliases are already unified.
 */
import type { MarketKind } from './venue-gateway.js';

export interface CcxtMarketLike {
  symbol: string;
  base: string;
  quote: string;
  spot?: boolean;
  swap?: boolean;
  linear?: boolean;
  active?: boolean | undefined;
}

/** Bosun's symbol for a ccxt unified symbol (`BTC/USDT:USDT` → `BTCUSDT`). */
export function bosunSymbol(ccxtSymbol: string): string {
  const [pair = ccxtSymbol] = ccxtSymbol.split(':');
  return pair.replace('/', '');
}

/** The kind of a ccxt market, or undefined for kinds Bosun does not trade (inverse, options, dated futures). */
export function marketKindOf(m: CcxtMarketLike): MarketKind | undefined {
  if (m.spot === true) return 'spot';
  if (m.swap === true && m.linear === true) return 'linear';
  return undefined;
}

export class SymbolMap {
  private readonly toCcxt = new Map<string, string>();
  private readonly toBosun = new Map<string, { symbol: string; market: MarketKind }>();

  /** Indexes every spot and linear-perpetual market; on a name clash the first market wins. */
  static fromMarkets(markets: Iterable<CcxtMarketLike>): SymbolMap {
    const map = new SymbolMap();
    for (const m of markets) {
      const kind = marketKindOf(m);
      if (kind === undefined) continue;
      const symbol = `${m.base}${m.quote}`;
      const key = `${kind}|${symbol}`;
      if (map.toCcxt.has(key)) continue;
      map.toCcxt.set(key, m.symbol);
      map.toBosun.set(m.symbol, { symbol, market: kind });
    }
    return map;
  }

  /** ccxt symbol for (Bosun symbol, kind), or undefined when the venue does not list it. */
  venueSymbol(symbol: string, market: MarketKind): string | undefined {
    return this.toCcxt.get(`${market}|${symbol}`);
  }

  /** Bosun symbol and kind for a ccxt symbol; falls back to stripping separators for unlisted symbols. */
  fromVenue(ccxtSymbol: string): { symbol: string; market: MarketKind } {
    return (
      this.toBosun.get(ccxtSymbol) ?? {
        symbol: bosunSymbol(ccxtSymbol),
        market: ccxtSymbol.includes(':') ? 'linear' : 'spot',
      }
    );
  }

  /** Every Bosun symbol of one kind. */
  symbols(market: MarketKind): string[] {
    const out: string[] = [];
    for (const v of this.toBosun.values()) if (v.market === market) out.push(v.symbol);
    return out;
  }

  get size(): number {
    return this.toCcxt.size;
  }
}
