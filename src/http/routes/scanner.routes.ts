import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { VENUE_IDS } from '../../domain/ids.js';
import type { ScannerPort } from '../../supervisor/scanner-port.js';
import { opsActor } from '../auth.js';
import type { RouteContext, ZodApp } from '../route-context.js';

/**
 * The universe (8009) and screener (8010) listeners (DESIGN §2) and the scanner's control route on engine.
 * `GET /health` answers `{"ok":true}` while the scanner actor is OK, `{"ok":false,"reason"}` with a 503 otherwise
 * (the runbook's `curl http://localhost:8009/health`). `GET /universe` and `GET /scan` are rate-limited per client
 * (token bucket on the socket address, charged after validation so a bad request is a 400, not a spent token): a
 * 429 with the catalogue's JSON body, and `retry-after`.
 */
const Query = z.strictObject({ venue: z.enum(VENUE_IDS).optional() });
const ScanQuery = z.strictObject({
  venue: z.enum(VENUE_IDS).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

function scanner(ctx: RouteContext): ScannerPort {
  const s = ctx.deps.scanner;
  if (!s) throw new AppError('NOT_READY', 'the symbol scanner is not running');
  return s;
}

/** A token bucket per client address; idle buckets are forgotten so the map stays bounded by active clients. */
export function createRateLimiter(opts: { burst: number; perSec: number; now?: () => number; maxClients?: number }) {
  const now = opts.now ?? (() => performance.now());
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(client: string): { ok: true } | { ok: false; retryAfterSec: number } {
      const t = now();
      let b = buckets.get(client);
      if (!b) {
        if (buckets.size >= (opts.maxClients ?? 10_000)) {
          for (const [k, v] of buckets) if (t - v.at > (opts.burst / opts.perSec) * 1000) buckets.delete(k);
        }
        b = { tokens: opts.burst, at: t };
        buckets.set(client, b);
      }
      b.tokens = Math.min(opts.burst, b.tokens + ((t - b.at) / 1000) * opts.perSec);
      b.at = t;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - b.tokens) / opts.perSec)) };
    },
  };
}

function limited(ctx: RouteContext) {
  const cfg = ctx.deps.screenerRateLimit ?? { burst: 20, perSec: 5 };
  const limiter = createRateLimiter(cfg);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const r = limiter.take(request.ip);
    if (r.ok) return;
    ctx.deps.metrics.screenerRateLimited.inc({ listener: ctx.listener });
    reply.header('retry-after', String(r.retryAfterSec));
    throw new AppError('RATE_LIMITED', `rate limit: ${cfg.burst} requests, then ${cfg.perSec}/s per client`);
  };
}

function healthRoute(app: ZodApp, ctx: RouteContext): void {
  app.get('/health', async (_request, reply) => {
    const s = ctx.deps.scanner;
    if (!s) {
      reply.code(503);
      return { ok: false, reason: 'the symbol scanner is not running' };
    }
    const h = s.health();
    if (h.value === 'OK') return { ok: true };
    reply.code(503);
    return { ok: false, reason: `${h.value}${h.reason ? `: ${h.reason}` : ''}` };
  });
}

export function universeRoutes(app: ZodApp, ctx: RouteContext): void {
  healthRoute(app, ctx);
  const limit = limited(ctx);
  app.get('/universe', { schema: { querystring: Query }, preHandler: [limit] }, async (request) => {
    const all = scanner(ctx).universe();
    const venues = request.query.venue ? { [request.query.venue]: all[request.query.venue] ?? [] } : all;
    return { venues, counts: Object.fromEntries(Object.entries(venues).map(([v, l]) => [v, l.length])) };
  });
}

export function screenerRoutes(app: ZodApp, ctx: RouteContext): void {
  healthRoute(app, ctx);
  const limit = limited(ctx);
  app.get('/scan', { schema: { querystring: ScanQuery }, preHandler: [limit] }, async (request) => {
    const v = scanner(ctx).scan();
    const q = request.query;
    const venues = Object.fromEntries(
      Object.entries(v.venues)
        .filter(([name]) => !q.venue || name === q.venue)
        .map(([name, x]) => [
          name,
          { shortlist: x.shortlist, scores: q.limit ? x.scores.slice(0, q.limit) : x.scores },
        ]),
    );
    return { enabled: v.enabled, passAt: v.passAt, passes: v.passes, venues };
  });
}

/** `POST /scanner/rescan` (engine): a fresh pass now; idempotent (a replayed key returns the stored answer). */
export function scannerControlRoutes(app: ZodApp, ctx: RouteContext): void {
  app.post('/scanner/rescan', { config: { command: 'scanner.rescan' }, ...ctx.command }, async (request) => {
    const s = scanner(ctx);
    const before = s.scan();
    const after = await s.rescan(opsActor(request));
    const shortlists = (v: typeof after) =>
      Object.fromEntries(Object.entries(v.venues).map(([name, x]) => [name, x.shortlist]));
    await ctx.trail.record(request, {
      action: 'scanner.rescan',
      target: 'scanner',
      before: shortlists(before),
      after: shortlists(after),
      result: 'ok',
      reason: after.enabled ? 'fresh pass' : 'scanner disabled: TRADE_SYMBOLS rules',
    });
    return { enabled: after.enabled, passAt: after.passAt, passes: after.passes, shortlist: shortlists(after) };
  });
}
