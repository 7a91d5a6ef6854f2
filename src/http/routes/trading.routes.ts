import { z } from 'zod';
import { StrategyWeightsInputSchema } from '../../config/files.schema.js';
import { AppError } from '../../domain/errors.js';
import { VENUE_IDS, type VenueId } from '../../domain/ids.js';
import type { TradingPort } from '../../supervisor/trading-port.js';
import { createAuthHook, OPS_TOKEN_HEADER, opsActor } from '../auth.js';
import type { RouteContext, ZodApp } from '../route-context.js';

/**
 * The trading routes (issue 4 item 10, DESIGN §2): `POST /orders` (the runbook's test order), `GET /orders`,
 * `GET /state`, `POST /reconcile/manual`, breaker resets and the auto-tune reset on the engine listener;
 * `GET,POST /strategy/weights` on the ops listener. Mutating routes need X-Ops-Token, take an Idempotency-Key and
 * are audited — except that `POST /reconcile/manual` also runs without a token, exactly as the runbook calls it:
 * it is idempotent and can only bring Bosun's books in line with the venue, never place an order. A token that is
 * presented must still be valid.
 */
const SYMBOL = /^[A-Z0-9]{2,20}$/;

/** `BTCUSDT.BINANCE` (the runbook's form) or `BTCUSDT` with `venue`. */
export const OrderBody = z
  .strictObject({
    symbol: z.string().trim().min(1).max(40),
    venue: z.string().optional(),
    side: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['buy', 'sell'], 'side must be BUY or SELL')),
    quote: z.number().finite().gt(0, 'quote must be > 0').max(1e9),
    type: z.enum(['market', 'limit']).optional(),
    price: z.number().finite().gt(0, 'price must be > 0').optional(),
  })
  .transform((b, ctx) => {
    const parts = b.symbol.toUpperCase().split('.');
    // Exactly SYMBOL or SYMBOL.VENUE: `BTCUSDT.BINANCE.X` once placed a real order with the extra part dropped.
    if (parts.length > 2)
      ctx.addIssue({ code: 'custom', path: ['symbol'], message: 'symbol must be BTCUSDT or BTCUSDT.BINANCE' });
    const [sym, suffix] = parts as [string, string | undefined];
    const venue = (suffix ?? b.venue ?? '').toLowerCase();
    if (!SYMBOL.test(sym))
      ctx.addIssue({ code: 'custom', path: ['symbol'], message: 'symbol must look like BTCUSDT.BINANCE' });
    if (!(VENUE_IDS as readonly string[]).includes(venue))
      ctx.addIssue({
        code: 'custom',
        path: [suffix ? 'symbol' : 'venue'],
        message: `venue must be one of ${VENUE_IDS.join(', ')} (BTCUSDT.BINANCE or "venue")`,
      });
    if (suffix && b.venue && b.venue.toLowerCase() !== venue)
      ctx.addIssue({ code: 'custom', path: ['venue'], message: 'venue contradicts the symbol suffix' });
    if (b.type === 'limit' && b.price === undefined)
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'a limit order needs a price' });
    if (b.type !== 'limit' && b.price !== undefined)
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'price is only for type "limit"' });
    return {
      venue: venue as VenueId,
      symbol: sym,
      side: b.side,
      quote: b.quote,
      type: b.type ?? 'market',
      price: b.price,
    };
  });

const OrdersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).default(50),
  venue: z.enum(VENUE_IDS).optional(),
  symbol: z.string().regex(SYMBOL, 'symbol must look like BTCUSDT').optional(),
  open: z.enum(['true', 'false']).optional(),
});

const WeightsBody = z.strictObject({ weights: StrategyWeightsInputSchema });
const BreakerParams = z.strictObject({ id: z.string().min(1).max(100) });

function port(ctx: RouteContext): TradingPort {
  const t = ctx.deps.trading;
  if (!t) throw new AppError('NOT_READY', 'the trading pipeline is not running');
  return t;
}

export function tradingRoutes(app: ZodApp, ctx: RouteContext): void {
  app.post(
    '/orders',
    { schema: { body: OrderBody }, config: { command: 'order' }, ...ctx.command },
    async (request, reply) => {
      const b = request.body;
      const actor = opsActor(request);
      const key = request.command?.idempotencyKey;
      const hash = request.command?.requestHash;
      // The key and the request's hash go into the intent's own commit: a retry after a crash (when the stored
      // response was never written) finds that intent and answers with its order, never places a second one.
      const idempotency = key !== undefined && hash !== undefined ? { key, hash } : undefined;
      const r = await port(ctx).submitOrder({ ...b, actor, idempotency });
      const target = `symbol:${b.venue}:${b.symbol}`;
      if (r.status === 'rejected') {
        await ctx.trail.record(request, {
          action: 'order',
          target,
          after: r.order ?? null,
          result: 'ok',
          reason: `rejected: ${r.reason}`,
        });
        reply.code(422);
        return { error: { code: 'ORDER_REJECTED', message: r.message }, reason: r.reason, order: r.order ?? null };
      }
      await ctx.trail.record(request, { action: 'order', target, after: r.order, result: 'ok', reason: r.status });
      reply.code(r.status === 'accepted' ? 201 : 202);
      return r;
    },
  );

  app.get('/orders', { schema: { querystring: OrdersQuery } }, async (request) => {
    const q = request.query;
    return {
      orders: port(ctx).listOrders({ limit: q.limit, venue: q.venue, symbol: q.symbol, open: q.open === 'true' }),
    };
  });

  app.get('/state', async () => port(ctx).portfolio());

  // Optional token: absent is the runbook's call; present must be valid.
  const auth = createAuthHook(ctx.deps);
  const optionalAuth = async (request: Parameters<typeof auth>[0], reply: Parameters<typeof auth>[1]) => {
    if (request.headers[OPS_TOKEN_HEADER] === undefined) {
      // Not an operator command: logged, but not written to the hash-chained operator audit log (anyone on
      // loopback can call it, and an unauthenticated caller must not be able to grow that log).
      request.command = { authenticated: false, audited: false };
      return;
    }
    await (auth as (a: typeof request, b: typeof reply) => Promise<void>)(request, reply);
  };
  app.post(
    '/reconcile/manual',
    { config: { command: 'reconcile' }, ...ctx.command, onRequest: [optionalAuth] },
    async (request) => {
      const r = await port(ctx).reconcile(opsActor(request));
      const summary = Object.fromEntries(
        Object.entries(r.venues).map(([v, x]) => [
          v,
          { fills_applied: x.fillsApplied, mismatches: x.mismatches.length },
        ]),
      );
      if (request.command?.authenticated)
        await ctx.trail.record(request, { action: 'reconcile', target: 'all', after: summary, result: 'ok' });
      else ctx.log.info({ actor: opsActor(request), venues: summary }, 'manual reconciliation (no token)');
      return { fills_applied: r.fillsApplied, venues: r.venues, at: r.at };
    },
  );

  app.get('/breakers', async () => ({ breakers: port(ctx).breakers() }));
  // The stop validator's view (runbook "Missing server-side stop"): each position and its server-side stop.
  app.get('/guards/stops', async () => {
    const t = port(ctx);
    if (!t.stops) throw new AppError('NOT_READY', 'the stop validator is not wired in this process');
    return { venues: t.stops() };
  });
  // Maker mode (MAKER_MODE): the evidence the runbook's go-live step reads before real maker on futures.
  app.get('/maker', async () => {
    const t = port(ctx);
    if (!t.maker) throw new AppError('NOT_READY', 'the trading engine is not wired in this process');
    return t.maker();
  });
  app.post(
    '/breakers/:id/reset',
    { schema: { params: BreakerParams }, config: { command: 'breaker.reset' }, ...ctx.command },
    async (request) => {
      const t = port(ctx);
      const before = t.breakers().find((b) => b.id === request.params.id) ?? null;
      const after = await t.resetBreaker(request.params.id, opsActor(request));
      await ctx.trail.record(request, {
        action: 'breaker.reset',
        target: request.params.id,
        before,
        after,
        result: 'ok',
        reason: after.tripped ? `still tripped: ${after.reason}` : 'reset',
      });
      return { breaker: after };
    },
  );

  app.post('/strategy/auto-tune/reset', { config: { command: 'auto_tune.reset' }, ...ctx.command }, async (request) => {
    const r = await port(ctx).resetAutoTune(opsActor(request));
    await ctx.trail.record(request, { action: 'auto_tune.reset', target: 'trend', after: r, result: 'ok' });
    return r;
  });
}

/** `GET,POST /strategy/weights` (ops listener): the runbook's body, written to ops/strategy_weights.json. */
export function weightsRoutes(app: ZodApp, ctx: RouteContext): void {
  app.get('/strategy/weights', async () => port(ctx).weights());
  app.post(
    '/strategy/weights',
    { schema: { body: WeightsBody }, config: { command: 'strategy.weights' }, ...ctx.command },
    async (request) => {
      const t = port(ctx);
      const before = t.weights();
      const after = await t.setWeights(request.body.weights as Record<string, number>, opsActor(request));
      await ctx.trail.record(request, {
        action: 'strategy.weights',
        target: 'ops/strategy_weights.json',
        before,
        after,
        result: 'ok',
      });
      return after;
    },
  );
}
