/**
 * ccxt.pro instances for the streams. One per stream session: a session that fails is closed whole and the next
 * one starts clean (no half-dead client, no stale cache), so reconnecting is "build a new one". It is pointed and
 * guarded like the REST instance of the same gateway and shares its loaded markets, so opening a stream costs no
 * REST request (Kraken's GetWebSocketsToken excepted: it goes through the REST instance, charged to the budget).
 */
import ccxt, { type Exchange } from 'ccxt';
import { LoopbackViolation } from '../error-classifier.js';
import { isLoopbackUrl, isSameOrigin } from '../loopback-guard.js';
import { listApiUrls, pointExchangeAt } from '../venue-urls.js';

/** Where the REST instance was pointed (CcxtGateway resolves it from its config). */
export type StreamTarget =
  | { mode: 'paper'; base: string }
  | { mode: 'live'; base?: string | undefined; testnet: boolean };

export interface ProExchangeOptions {
  ccxtId: 'binance' | 'binanceusdm' | 'kraken';
  /** The REST instance's constructor config (keys, timeout, options). */
  config: Record<string, unknown>;
  target: StreamTarget;
  /** Markets already loaded by the REST instance. */
  markets: Exchange['markets'];
  /** ccxt's keepalive: ping every `keepAliveMs`, the connection is dead after two unanswered. */
  keepAliveMs: number;
  /**
   * The gateway's REST instance: the stream instance's own REST requests (Kraken's GetWebSocketsToken) go out
   * through it, so they share its guard, Kraken's nonce sequence and one-at-a-time private calls.
   */
  rest: Exchange;
  /** Runs before each REST request the stream instance makes (budget). */
  chargeRest: () => Promise<void>;
  /** Shared by every stream instance of one account: Kraken's WebSockets token, reused until it expires. */
  tokens?: WsTokenCache;
}

/**
 * Kraken's GetWebSocketsToken answer, kept across stream sessions. A token must be used within 15 minutes of
 * issue and stays valid while its connection is open (Kraken docs); each session used to ask for a new one, a
 * private call on a counter of 15 (starter) that settlement and reconciliation need. Reused for 14 minutes.
 */
export interface WsTokenCache {
  value?: { response: unknown; at: number };
}
export const WS_TOKEN_TTL_MS = 14 * 60_000;

/**
 * Binance USDⓈ-M listenKey keepalive period. A key lives 60 minutes past its last keepalive and Binance suggests
 * one about every 60 minutes; ccxt's default is 20. Every 30 minutes keeps one missed keepalive survivable.
 */
export const LISTEN_KEY_REFRESH_MS = 30 * 60_000;

const CTORS = {
  binance: ccxt.pro.binance,
  binanceusdm: ccxt.pro.binanceusdm,
  kraken: ccxt.pro.kraken,
} as const;

/** A ccxt.pro instance pointed where the gateway is, refusing any other host for REST and WebSocket alike. */
export async function createProExchange(o: ProExchangeOptions): Promise<Exchange> {
  const Ctor = CTORS[o.ccxtId];
  // The REST instance's tiny paper-mode `rateLimit` (1 ms) also paces ccxt's WebSocket sends, and at 1 ms Binance's
  // subscribe messages were never sent (observed with 4.5.84): the venue default paces the few stream requests.
  const { rateLimit: _restPacing, ...config } = o.config;
  const ex = new Ctor({
    ...config,
    enableRateLimit: true,
    streaming: { keepAlive: o.keepAliveMs },
    ...(o.ccxtId === 'binanceusdm'
      ? {
          options: {
            ...(config.options as Record<string, unknown> | undefined),
            listenKeyRefreshRate: LISTEN_KEY_REFRESH_MS,
          },
        }
      : {}),
  }) as unknown as Exchange;
  const t = o.target;
  let allow: (url: string) => boolean = () => true;
  if (t.mode === 'paper') {
    pointExchangeAt(ex, t.base);
    allow = isLoopbackUrl;
  } else if (t.base !== undefined) {
    const base = t.base;
    pointExchangeAt(ex, base);
    const origin = new URL(base);
    const wsOrigin = `${origin.protocol === 'https:' ? 'wss:' : 'ws:'}//${origin.host}`;
    allow = (u) => isSameOrigin(u, base) || isSameOrigin(u, wsOrigin);
  } else if (t.testnet) {
    ex.setSandboxMode(true);
  }
  const bad = listApiUrls(ex).find((u) => !allow(u));
  if (bad !== undefined) throw new LoopbackViolation(`${o.ccxtId} stream: refusing ${bad} (${t.mode} mode)`);
  const rest = o.rest.fetch2.bind(o.rest);
  const tokens = o.tokens;
  // ccxt schedules its listenKey keepalive with a bare timer that outlives `close()`: a closed session's instance
  // must not keep calling the venue (the next session has its own key and its own keepalive).
  let closed = false;
  const close = ex.close.bind(ex);
  ex.close = async () => {
    closed = true;
    return close();
  };
  ex.fetch2 = async (...args: Parameters<Exchange['fetch2']>) => {
    if (closed) throw new Error(`${o.ccxtId} stream instance closed`);
    const isToken = args[0] === 'GetWebSocketsToken';
    const cached = tokens?.value;
    if (isToken && cached !== undefined && Date.now() - cached.at < WS_TOKEN_TTL_MS) return cached.response;
    await o.chargeRest();
    const response = await rest(...args);
    if (isToken && tokens !== undefined) tokens.value = { response, at: Date.now() };
    return response;
  };
  // Plain ws:// (the simulator) needs ccxt's http agent; wss:// does not.
  if (listApiUrls(ex).some((u) => u.startsWith('ws://'))) await ex.loadHttpProxyAgent();
  ex.setMarkets(o.markets);
  guardFutures(ex);
  return ex;
}

/**
 * ccxt.pro creates some futures it never awaits (Binance's `authenticate:signature:spot`, made "ahead of the
 * request" for concurrent callers): when the connection fails they reject with no handler, and an unhandled
 * rejection halts Bosun (DESIGN §4). Every future of every connection gets a no-op handler; whoever awaits one
 * still sees its rejection.
 */
function guardFutures(ex: Exchange): void {
  const client = ex.client.bind(ex);
  const guarded = new WeakSet<object>();
  ex.client = (url: string) => {
    const c = client(url) as unknown as { future(hash: string): Promise<unknown> };
    if (!guarded.has(c)) {
      guarded.add(c);
      const future = c.future.bind(c);
      c.future = (hash: string) => {
        const f = future(hash);
        f.catch(() => undefined);
        return f;
      };
    }
    return c as never;
  };
}
