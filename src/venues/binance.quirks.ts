/**
 * Binance quirks (reference/ccxt-venues.md §1–§3). One factory serves both ccxt ids: `binance` for spot and
 * `binanceusdm` for USDⓈ-M perpetuals, which Bosun runs as two instances sharing one account budget.
 */
import ccxt, { type Exchange } from 'ccxt';
import type { VenueErrorInfo } from './error-classifier.js';
import type { RateBudget } from './rate-budget.js';
import type { MarketKind, OrderType } from './venue-gateway.js';
import { binanceCost } from './venue-limits.js';
import {
  type CcxtOrderArgs,
  field,
  type OrderBookVariant,
  portableOrderArgs,
  type RawOrderFields,
  SINGLE_BOOK,
  type VenueQuirks,
} from './venue-quirks.js';

/** recvWindow we send; Binance's default is 5000, ccxt's 10000. Violations come back as -1021. */
export const BINANCE_RECV_WINDOW_MS = 5000;

/**
 * ccxt picks Binance's market-specific error tables by *host* (`https://fapi.binance.com/` → linear), so on
 * loopback or behind a base-URL override they are silently skipped and USD-M `-2019 Margin is insufficient`
 * becomes a bare ExchangeError. Choosing by *path* works for every host. `/futures/data` is served by both the
 * fapi and dapi hosts; Bosun does not use COIN-M, so it is read as linear.
 */
export function binanceMarketTypeForUrl(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  if (path.startsWith('/api/') || path.startsWith('/sapi/')) return 'spot';
  if (path.startsWith('/fapi/') || path.startsWith('/futures/data')) return 'linear';
  if (path.startsWith('/dapi/')) return 'inverse';
  if (path.startsWith('/eapi/')) return 'option';
  if (path.startsWith('/papi/')) return 'portfolioMargin';
  return undefined;
}

function exceptionsByPath(ex: Exchange, url: string | undefined, exactOrBroad: string): Record<string, unknown> {
  const type = url === undefined ? undefined : binanceMarketTypeForUrl(url);
  if (type === undefined) return {};
  const forType = ex.safeDict(ex.exceptions, type, {});
  return ex.safeDict(forType, exactOrBroad, {});
}

/** ccxt `binance` with error tables chosen by URL path. */
export class PathRoutedBinance extends ccxt.binance {
  override getExceptionsByUrl(url: string | undefined, exactOrBroad: string) {
    return exceptionsByPath(this, url, exactOrBroad);
  }
}

/** ccxt `binanceusdm` with error tables chosen by URL path. */
export class PathRoutedBinanceUsdm extends ccxt.binanceusdm {
  override getExceptionsByUrl(url: string | undefined, exactOrBroad: string) {
    return exceptionsByPath(this, url, exactOrBroad);
  }
}

const SPOT_TYPES: Record<string, OrderType> = {
  MARKET: 'market',
  LIMIT: 'limit',
  LIMIT_MAKER: 'limit',
  STOP_LOSS: 'stop_loss',
  STOP_LOSS_LIMIT: 'stop_loss_limit',
  TAKE_PROFIT: 'take_profit',
  TAKE_PROFIT_LIMIT: 'take_profit_limit',
};

// USD-M names the same things differently: TAKE_PROFIT is the *limit* variant there.
const FAPI_TYPES: Record<string, OrderType> = {
  MARKET: 'market',
  LIMIT: 'limit',
  STOP: 'stop_loss_limit',
  STOP_MARKET: 'stop_loss',
  TAKE_PROFIT: 'take_profit_limit',
  TAKE_PROFIT_MARKET: 'take_profit',
};

const FAPI_DEPTHS = [5, 10, 20, 50, 100, 500, 1000];

/**
 * Since Binance moved USDⓈ-M conditional orders to the Algo service, ccxt 4.5 sends linear stops/take-profits
 * to /fapi/v1/algoOrder (ids are `algoId`, client ids `clientAlgoId`) and reads them back only with
 * `trigger: true`. Regular and algo ids are separate sequences, hence the prefix.
 */
const USDM_BOOKS: readonly OrderBookVariant[] = [
  { prefix: '', params: {} },
  { prefix: 'algo:', params: { trigger: true } },
];

function rawFields(info: unknown, linear: boolean): RawOrderFields {
  const out: RawOrderFields = {};
  const raw = field(info, 'type') ?? field(info, 'orderType');
  const type = typeof raw === 'string' ? (linear ? FAPI_TYPES : SPOT_TYPES)[raw] : undefined;
  if (type !== undefined) out.type = type;
  // A DELETE answer carries the cancel request's own id in clientOrderId and the order's in origClientOrderId.
  const orig = field(info, 'origClientOrderId');
  if (typeof orig === 'string' && orig !== '') out.clientOrderId = orig;
  // ccxt prefers `workingTime`, which is -1 for an untriggered stop: fall back to the creation time.
  const ts = Number(field(info, 'time') ?? field(info, 'transactTime') ?? field(info, 'createTime') ?? Number.NaN);
  if (Number.isFinite(ts) && ts > 0) out.timestamp = ts;
  if (linear && field(info, 'algoId') !== undefined && field(info, 'orderId') === undefined) out.book = 'algo:';
  return out;
}

/** Quirks for Binance spot (`binance`) or USDⓈ-M (`binanceusdm`). */
export function binanceQuirks(market: MarketKind): VenueQuirks {
  const linear = market === 'linear';
  const weightLimiter = linear ? 'fapi_weight' : 'spot_weight';
  return {
    venue: 'binance',
    ccxtId: linear ? 'binanceusdm' : 'binance',
    marketKinds: [market],
    acceptWindowMs: BINANCE_RECV_WINDOW_MS + 1000,
    cancelAllScope: 'symbol_required',
    orderBooks: linear ? USDM_BOOKS : SINGLE_BOOK,
    // Spot ticker/24hr costs 80 for > 100 symbols or for all of them; USDⓈ-M has no symbol list at all.
    allTickersAbove: linear ? 0 : 100,

    createExchange(config) {
      const options = {
        // Without these, loadMarkets reaches signed sapi endpoints and COIN-M dapi (reference §1.2).
        fetchMarkets: { types: [market] },
        fetchCurrencies: false,
        fetchMargins: false,
        recvWindow: BINANCE_RECV_WINDOW_MS,
        // Signed requests carry our timestamp and Binance refuses one off by more than recvWindow (-1021): ccxt
        // measures the venue clock (GET /time) in loadMarkets and offsets every timestamp by it.
        adjustForTimeDifference: true,
        // ccxt throws locally on a symbol-less fetchOpenOrders unless told we accept the higher weight.
        fetchOpenOrders: { warnWithoutSymbol: false },
        warnOnFetchOpenOrdersWithoutSymbol: false,
        ...(config.options as Record<string, unknown> | undefined),
      };
      const Ctor = linear ? PathRoutedBinanceUsdm : PathRoutedBinance;
      return new Ctor({ ...config, options });
    },

    useTestnet(ex) {
      ex.setSandboxMode(true);
    },

    checkClientId(id) {
      return /^[A-Za-z0-9_-]{1,36}$/.test(id) ? undefined : 'Binance clientOrderId must be 1-36 of [A-Za-z0-9_-]';
    },

    venueClientId: (id) => id,

    orderArgs(req, venueClientId): CcxtOrderArgs {
      const args = portableOrderArgs(req);
      args.params.newClientOrderId = venueClientId;
      return args;
    },

    clientIdParams: (venueClientId) => ({ origClientOrderId: venueClientId }),

    async findByClientId(ex, ccxtSymbol, venueClientId, book) {
      if (ccxtSymbol === undefined) throw new ccxt.ArgumentsRequired('binance: an order lookup needs its symbol');
      try {
        return await ex.fetchOrder('', ccxtSymbol, { ...book.params, origClientOrderId: venueClientId });
      } catch (e) {
        // -2013 "Order does not exist." → OrderNotFound: a conclusive "not booked" (within acceptWindowMs).
        if (e instanceof ccxt.OrderNotFound) return undefined;
        throw e;
      }
    },

    rawOrderFields: (info) => rawFields(info, linear),

    depthParam(depth) {
      if (!linear) return Math.min(Math.max(1, Math.ceil(depth)), 5000);
      return FAPI_DEPTHS.find((d) => d >= depth) ?? 1000;
    },

    cost: (op, ctx) => binanceCost(op, ctx),

    refineError: (info: VenueErrorInfo) => info,

    observe(ex, budget: RateBudget) {
      // Weight is per IP: the venue's count includes other processes; the budget takes the larger.
      const used = ex.last_response_headers?.['X-Mbx-Used-Weight-1m'];
      if (used !== undefined) budget.observe(weightLimiter, Number(used));
    },

    // Spot answers the canceled orders, USDⓈ-M only a message: count from the listing made before instead.
    cancelAllCount: () => undefined,
  };
}
