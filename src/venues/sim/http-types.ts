/**
 * The simulator's own request/response shapes: the server reads a request once (raw query and body kept
 * byte-exact for signature checks) and every dialect or control route returns a plain response object.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface SimRequest {
  method: string;
  /** Path without the query (`/api/v3/order`). */
  path: string;
  /** Query string exactly as sent, without `?`. */
  rawQuery: string;
  /** Body exactly as sent. */
  rawBody: string;
  headers: IncomingHttpHeaders;
  /** Remote address (rate limits are per IP). */
  ip: string;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is (HTML pages, garbage); anything else as JSON. */
  body: unknown;
  contentType?: string;
}

/** What the server does with a request besides answering it. */
export type Outcome = { kind: 'answer'; res: SimResponse } | { kind: 'hang' } | { kind: 'disconnect' };

export function json(status: number, body: unknown, headers?: Record<string, string>): SimResponse {
  return { status, body, ...(headers === undefined ? {} : { headers }) };
}

/** The HTML page a load balancer or CDN returns for a 5xx (a non-JSON body, as ccxt sees on real outages). */
export function htmlPage(status: number, title: string): SimResponse {
  return {
    status,
    contentType: 'text/html; charset=utf-8',
    body: `<!DOCTYPE html>\n<html><head><title>${status} ${title}</title></head><body><center><h1>${status} ${title}</h1></center><hr><center>bosun-sim</center></body></html>\n`,
  };
}

export const STATUS_TEXT: Record<number, string> = {
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  520: 'Web Server Returned an Unknown Error',
};

/** Parses `a=1&b=2` into ordered pairs, decoding `+` and percent escapes; undefined when malformed. */
export function parseForm(raw: string): [string, string][] | undefined {
  if (raw === '') return [];
  const out: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    try {
      out.push([decodeURIComponent(k.replace(/\+/g, ' ')), decodeURIComponent(v.replace(/\+/g, ' '))]);
    } catch {
      return undefined;
    }
  }
  return out;
}
