import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';

/**
 * Cross-site and DNS-rebinding defences of every listener (issue #15, DESIGN §9).
 *
 * - `Host` must name this machine as the operator reaches it: `localhost`, a loopback IP, `BIND_HOST`, or a name
 *   in `ALLOWED_HOSTS` (a reverse proxy's public name). A page on `attacker.example` whose DNS later points at
 *   127.0.0.1 sends `Host: attacker.example`, so the open reads are not reachable by rebinding.
 * - A mutating request (anything but GET/HEAD/OPTIONS) that a browser marks as cross-site is refused: an
 *   `Origin` whose host is not allowed (or the opaque `null`), or `Sec-Fetch-Site: cross-site`. Browsers send a
 *   form POST (`application/x-www-form-urlencoded`, parsed as JSON for the runbook's curl) cross-site without a
 *   preflight, and always with these headers; curl and the CLI send neither, so the runbook's header-less curl
 *   still works.
 */
export interface HostGuardOptions {
  /** `BIND_HOST` plus `ALLOWED_HOSTS`; `localhost` and loopback IPs are always allowed. */
  allowedHosts?: readonly string[] | undefined;
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Binding every interface says nothing about the name clients use: it is never an allowed Host by itself. */
const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]']);

/** True for a loopback peer address as Node reports it (`127.x`, `::1`, `::ffff:127.x`). */
export function isLoopbackIp(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return ip === '::1' || LOOPBACK_V4.test(v4);
}

/** Lower-cased host name of a `Host` header or URL authority, port and IPv6 brackets removed. */
export function hostName(authority: string): string | undefined {
  const a = authority.trim().toLowerCase();
  if (a.length === 0 || a.length > 255) return undefined;
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end > 1 ? a.slice(1, end) : undefined;
  }
  const colon = a.indexOf(':');
  const name = colon < 0 ? a : a.slice(0, colon);
  if (colon >= 0 && !/^\d{0,5}$/.test(a.slice(colon + 1))) return undefined;
  return /^[a-z0-9.-]+$/.test(name) ? name.replace(/\.$/, '') : undefined;
}

/** The predicate over host names this listener answers to. */
export function createHostAllowList(allowed: readonly string[] = []): (host: string) => boolean {
  const names = new Set(['localhost', '::1']);
  for (const h of allowed) {
    const t = h.trim();
    if (WILDCARDS.has(t)) continue;
    // A bare IPv6 address (BIND_HOST=::1) has no brackets to strip and no port.
    const n = t.split(':').length > 2 && !t.startsWith('[') ? t.toLowerCase() : hostName(t);
    if (n) names.add(n);
  }
  return (host) => names.has(host) || LOOPBACK_V4.test(host) || host.endsWith('.localhost');
}

/** Why a request is refused, or undefined if it may proceed. */
export function refusal(
  request: Pick<FastifyRequest, 'method' | 'headers'>,
  isAllowed: (host: string) => boolean,
): string | undefined {
  const rawHost = request.headers.host;
  const host = typeof rawHost === 'string' ? hostName(rawHost) : undefined;
  if (host === undefined) return 'a valid Host header is required';
  if (!isAllowed(host))
    return `Host '${host.slice(0, 100)}' is not allowed; add it to ALLOWED_HOSTS if Bosun is behind a proxy`;
  if (SAFE_METHODS.has(request.method)) return undefined;
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site') return 'cross-site requests are refused on mutating routes';
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  let originHost: string | undefined;
  try {
    const u = new URL(String(origin));
    if (u.protocol === 'http:' || u.protocol === 'https:') originHost = hostName(u.host);
  } catch {
    originHost = undefined;
  }
  if (originHost === undefined || !isAllowed(originHost))
    return `Origin '${String(origin).slice(0, 100)}' is not allowed on mutating routes`;
  return undefined;
}

/** Installs the guard first on the root instance, so it runs before auth, CORS and any body is read. */
export function installHostGuard(app: FastifyInstance, opts: HostGuardOptions): void {
  const isAllowed = createHostAllowList(opts.allowedHosts);
  app.addHook('onRequest', async (request) => {
    const why = refusal(request, isAllowed);
    if (why !== undefined) throw new AppError('FORBIDDEN', why);
  });
}
