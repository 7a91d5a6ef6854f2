import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import type { RouteContext, ZodApp } from '../route-context.js';

/**
 * The situations listener (8011, DESIGN §2): `GET /health` (`{"ok":true}` while the incident list can be read)
 * and `GET /situations`, the active incidents with since-when and what to do (src/actors/situations.ts).
 */
const Query = z.strictObject({
  kind: z
    .string()
    .regex(/^[a-z_-]{1,40}$/, 'kind must be a lowercase word')
    .optional(),
});

export function situationsRoutes(app: ZodApp, ctx: RouteContext): void {
  app.get('/health', async (_request, reply) => {
    const s = ctx.deps.situations;
    if (!s) {
      reply.code(503);
      return { ok: false, reason: 'the situations service is not running' };
    }
    try {
      s.list();
      return { ok: true };
    } catch (e) {
      reply.code(503);
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
  });

  app.get('/situations', { schema: { querystring: Query } }, async (request) => {
    const s = ctx.deps.situations;
    if (!s) throw new AppError('NOT_READY', 'the situations service is not running');
    const all = s.list();
    const list = request.query.kind ? all.filter((x) => x.kind === request.query.kind) : all;
    return { count: list.length, situations: list };
  });
}
