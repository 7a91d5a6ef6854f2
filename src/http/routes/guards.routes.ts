import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import type { GuardsPort } from '../../supervisor/guards-port.js';
import { opsActor } from '../auth.js';
import type { RouteContext, ZodApp } from '../route-context.js';

/**
 * The money guards (issue 5, engine listener): `GET /guards` lists each guard under `guards:<venue>` with its
 * state; `POST /guards/depeg/rearm` is the runbook's "manual helper" after a depeg (X-Ops-Token,
 * Idempotency-Key, audited). It refuses with 409 while parity is still broken or the cooldown is not over.
 */
const RearmBody = z.strictObject({ note: z.string().trim().min(1).max(200).optional() }).optional();

function port(ctx: RouteContext): GuardsPort {
  const g = ctx.deps.guards;
  if (!g) throw new AppError('NOT_READY', 'the guards are not running');
  return g;
}

export function guardsRoutes(app: ZodApp, ctx: RouteContext): void {
  app.get('/guards', async () => ({ guards: port(ctx).list() }));
  app.post(
    '/guards/depeg/rearm',
    { schema: { body: RearmBody }, config: { command: 'depeg.rearm' }, ...ctx.command },
    async (request) => {
      const r = await port(ctx).rearmDepeg(opsActor(request));
      await ctx.trail.record(request, {
        action: 'depeg.rearm',
        target: r.after.id,
        before: r.before,
        after: r.after,
        result: 'ok',
        reason: request.body?.note ?? 're-armed',
      });
      return { guard: r.after };
    },
  );
}
