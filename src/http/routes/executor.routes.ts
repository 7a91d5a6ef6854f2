import { AppError } from '../../domain/errors.js';
import type { ExecutorPort } from '../../supervisor/executor-port.js';
import { opsActor } from '../auth.js';
import type { RouteContext, ZodApp } from '../route-context.js';

/**
 * The executor on its own (engine listener): `GET /executor`, `POST /executor/stop` (what `make executor-down`
 * calls) and `POST /executor/start`. Both commands are idempotent (stopping a stopped executor changes nothing),
 * authenticated and audited; a disabled executor (EXECUTOR_ENABLED=false) answers 409.
 */
function executor(ctx: RouteContext): ExecutorPort {
  const e = ctx.deps.executor;
  if (!e) throw new AppError('NOT_READY', 'the executor is not available');
  return e;
}

export function executorRoutes(app: ZodApp, ctx: RouteContext): void {
  app.get('/executor', async () => executor(ctx).view());
  for (const verb of ['stop', 'start'] as const) {
    const action = `executor.${verb}`;
    app.post(`/executor/${verb}`, { config: { command: action }, ...ctx.command }, async (request) => {
      const e = executor(ctx);
      const before = e.view();
      const after = verb === 'stop' ? await e.stop(opsActor(request)) : await e.start(opsActor(request));
      await ctx.trail.record(request, {
        action,
        target: 'executor',
        before: { stopped: before.stopped },
        after: { stopped: after.stopped },
        result: 'ok',
        reason: before.stopped === after.stopped ? 'no change' : verb === 'stop' ? 'stopped' : 'started',
      });
      return after;
    });
  }
}
