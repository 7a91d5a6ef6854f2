import { z } from 'zod';
import type { RouteContext, ZodApp } from '../route-context.js';

export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  since: z.coerce.number().int().nonnegative().optional(),
  actor: z.string().min(1).max(64).optional(),
  action: z.string().min(1).max(64).optional(),
});

/**
 * `GET /audit` (ops): the hash-chained operator log, newest first, filterable by time (epoch ms), actor and
 * action. Read-only and open on loopback like every read (DESIGN §9); it holds call-signs and addresses, never
 * tokens.
 */
export function auditRoutes(app: ZodApp, ctx: RouteContext): void {
  app.get('/audit', { schema: { querystring: AuditQuery } }, async (request) => {
    const { limit, since, actor, action } = request.query;
    const records = await ctx.deps.audit.list({ limit, since, actor, action });
    return { records };
  });
}
