import type { RouteContext, ZodApp } from '../route-context.js';

/**
 * Probes. `/readyz` is readiness: 503 until boot recovery has finished (DESIGN §6), so nothing routes traffic
 * to a process that may still resolve unknown orders. `/healthz` is liveness: 200 whenever the event loop
 * answers, with the root's health as information (a HALTED tree is a trading state, not a reason to restart
 * the process). `/health` (engine) is the runbook's health check: `ok` is false, with a 503, only when the
 * system is HALTED; DEGRADED still answers `ok: true` with its reason.
 */
export function healthRoutes(app: ZodApp, ctx: RouteContext): void {
  const { runtime } = ctx.deps;

  app.get('/readyz', async (_request, reply) => {
    if (runtime.ready()) return { ready: true };
    reply.code(503).header('retry-after', '1');
    return { ready: false, reason: 'boot recovery in progress' };
  });

  app.get('/healthz', async () => {
    const h = runtime.health();
    return { alive: true, health: h.value, reason: h.reason };
  });

  if (ctx.listener === 'engine') {
    app.get('/health', async (_request, reply) => {
      const h = runtime.health();
      const ok = h.value !== 'HALTED';
      if (!ok) reply.code(503);
      return { ok, health: h.value, reason: h.reason };
    });
  }
}
