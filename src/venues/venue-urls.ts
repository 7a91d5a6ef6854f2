/**
 * Points a ccxt instance somewhere else by rewriting `exchange.urls` (reference §1.1). Every URL tree is
 * rewritten, not only `public`/`private`: Binance alone has 22 API families (sapi, fapi, dapi, eapi, papi…)
 * plus parallel `test`/`demo` trees, and one missed key would send a paper request to the real venue.
 * Paths are kept, so one simulator port serves all of Binance (`/api/v3`, `/fapi/v1`, …) and Kraken (`/0/…`).
 */

/** The url trees ccxt reads request URLs from (`api.ws` holds ccxt.pro's websocket URLs). */
export const URL_TREES = ['api', 'test', 'demo', 'apiBackup'] as const;

const URL_RE = /^(https?|wss?):\/\/[^/?#]+(.*)$/s;

function schemeFor(original: string, base: URL): string {
  const secure = base.protocol === 'https:';
  const ws = original === 'ws' || original === 'wss';
  if (ws) return secure ? 'wss' : 'ws';
  return secure ? 'https' : 'http';
}

/** Rewrites one URL to `base`'s host, keeping its path and query; non-URL strings are returned unchanged. */
export function rewriteUrl(url: string, base: string): string {
  const m = URL_RE.exec(url);
  if (m === null) return url;
  const b = new URL(base);
  const prefix = b.pathname.replace(/\/+$/, '');
  return `${schemeFor(m[1] ?? 'https', b)}://${b.host}${prefix}${m[2] ?? ''}`;
}

/** Rewrites every string in a (nested) url tree. */
export function rewriteUrlTree(tree: unknown, base: string): unknown {
  if (typeof tree === 'string') return rewriteUrl(tree, base);
  if (Array.isArray(tree)) return tree.map((t) => rewriteUrlTree(t, base));
  if (tree !== null && typeof tree === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tree)) out[k] = rewriteUrlTree(v, base);
    return out;
  }
  return tree;
}

/** The slice of a ccxt Exchange whose URLs get rewritten. */
export interface UrlHolder {
  urls: Record<string, unknown>;
}

/** Rewrites `api`, `test`, `demo` and `apiBackup` (whichever exist) to `base`, in place. */
export function pointExchangeAt(ex: UrlHolder, base: string): void {
  new URL(base); // throws on a malformed base before anything is changed
  for (const key of URL_TREES) {
    const tree = ex.urls[key];
    if (tree !== undefined && tree !== null) ex.urls[key] = rewriteUrlTree(tree, base);
  }
}

/** Every URL string under the url trees, for tests and for a start-up assertion. */
export function listApiUrls(ex: UrlHolder): string[] {
  const out: string[] = [];
  const walk = (t: unknown): void => {
    if (typeof t === 'string') {
      if (URL_RE.test(t)) out.push(t);
    } else if (Array.isArray(t)) t.forEach(walk);
    else if (t !== null && typeof t === 'object') Object.values(t).forEach(walk);
  };
  for (const key of URL_TREES) walk(ex.urls[key]);
  return out;
}
