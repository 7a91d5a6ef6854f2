/**
 * Paper mode's hard guarantee (DESIGN §7, reference §1.1): every request ccxt makes goes through
 * `exchange.fetch`, and the guard installed here refuses any URL whose host is not loopback *before* the
 * original fetch runs — so no DNS lookup and no socket for a URL that escaped the rewrite (a ccxt upgrade
 * adding an API family, a hostname option, a proxy setting).
 */
import { LoopbackViolation } from './error-classifier.js';

const URL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);

/** True for 127.0.0.0/8, localhost and ::1 (and IPv4-mapped 127/8); the WHATWG parser normalises `127.1`, hex, … */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h === '[::1]' || h === '::1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  // ::ffff:127.x.y.z after normalisation: [::ffff:7fxx:xxxx]
  return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(h);
}

/** True when `url` parses, uses http(s)/ws(s) and points at a loopback host. */
export function isLoopbackUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return URL_SCHEMES.has(u.protocol) && isLoopbackHost(u.hostname);
}

/** True when `url` has the same scheme, host and port as `base` (live mode with an explicit base URL). */
export function isSameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/** ccxt settings that would send a request somewhere other than the URL the guard checked. */
const PROXY_FIELDS = [
  'proxy',
  'proxyUrl',
  'proxy_url',
  'proxyUrlCallback',
  'httpProxy',
  'http_proxy',
  'httpProxyCallback',
  'httpsProxy',
  'https_proxy',
  'httpsProxyCallback',
  'socksProxy',
  'socks_proxy',
  'socksProxyCallback',
] as const;

type FetchFn = (url: string, method?: string, headers?: unknown, body?: unknown) => Promise<unknown>;

/** The slice of a ccxt Exchange the guard touches. */
export interface GuardableExchange {
  id: string;
  fetch: FetchFn;
}

/**
 * Wraps `ex.fetch` so a URL refused by `allow` (or any proxy setting) throws LoopbackViolation before the
 * original fetch — hence before any socket — runs. Returns the number of refusals so far, for tests and logs.
 */
export function installFetchGuard(
  ex: GuardableExchange,
  allow: (url: string) => boolean,
  why: string,
): { refused: () => number } {
  const original = ex.fetch.bind(ex);
  let refused = 0;
  const fields = ex as unknown as Record<string, unknown>;
  ex.fetch = async (url, method, headers, body) => {
    const proxy = PROXY_FIELDS.find((f) => fields[f] !== undefined && fields[f] !== null && fields[f] !== '');
    if (proxy !== undefined) {
      refused++;
      throw new LoopbackViolation(`${ex.id}: refused ${method ?? 'GET'} ${url}: proxy setting '${proxy}' (${why})`);
    }
    if (typeof url !== 'string' || !allow(url)) {
      refused++;
      throw new LoopbackViolation(`${ex.id}: refused ${method ?? 'GET'} ${String(url)} (${why})`);
    }
    return original(url, method, headers, body);
  };
  return { refused: () => refused };
}
