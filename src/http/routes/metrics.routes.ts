import type { RouteContext, ZodApp } from '../route-context.js';

/** `GET /metrics`: the one registry passed down (never prom-client's global), in the exposition format. */
export function metricsRoutes(app: ZodApp, ctx: RouteContext): void {
  const { registry } = ctx.deps.metrics;
  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
