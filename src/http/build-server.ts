import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { AppError } from '../domain/errors.js';
import { createAuditTrail } from './audit-trail.js';
import { createAuthHook } from './auth.js';
import { installContentTypes } from './content-types.plugin.js';
import { installLoopbackCors } from './cors.js';
import { installErrorHandling, onClientError, onFrameworkError } from './error.plugin.js';
import { installHostGuard } from './host-guard.js';
import { createIdempotencyHooks } from './idempotency.js';
import { withResponseSchemas } from './openapi-responses.js';
import type { HttpDeps, ListenerName } from './ports.js';
import type { CommandHooks, RouteContext, RouteModule } from './route-context.js';
import { actorsRoutes } from './routes/actors.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { backupRoutes } from './routes/backup.routes.js';
import { docsRoutes } from './routes/docs.routes.js';
import { eventsRoutes } from './routes/events.routes.js';
import { executorRoutes } from './routes/executor.routes.js';
import { goliveRoutes } from './routes/golive.routes.js';
import { guardsRoutes } from './routes/guards.routes.js';
import { healthRoutes } from './routes/health.routes.js';
import { inspectRoutes } from './routes/inspect.routes.js';
import { killRoutes } from './routes/kill.routes.js';
import { metricsRoutes } from './routes/metrics.routes.js';
import { scannerControlRoutes, screenerRoutes, universeRoutes } from './routes/scanner.routes.js';
import { situationsRoutes } from './routes/situations.routes.js';
import { statusRoutes } from './routes/status.routes.js';
import { tradingRoutes, weightsRoutes } from './routes/trading.routes.js';

export type { HttpDeps, ListenerName } from './ports.js';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Which routes each listener serves (DESIGN §2). Probes, `/status` and `/metrics` are on both; operator
 * governance (`/kill`, `/audit`) is on ops; the actor tree and its commands are on engine.
 */
export const LISTENER_ROUTES: Record<ListenerName, readonly RouteModule[]> = {
  ops: [
    healthRoutes,
    statusRoutes,
    metricsRoutes,
    killRoutes,
    auditRoutes,
    weightsRoutes,
    backupRoutes,
    goliveRoutes,
    docsRoutes,
  ],
  // `/kill` on engine too: the inspector page talks only to its own origin (CSP connect-src 'self').
  engine: [
    healthRoutes,
    statusRoutes,
    metricsRoutes,
    killRoutes,
    actorsRoutes,
    tradingRoutes,
    guardsRoutes,
    eventsRoutes,
    scannerControlRoutes,
    executorRoutes,
    inspectRoutes,
    docsRoutes,
  ],
  // Every listener publishes its OpenAPI document (the fuzz campaign in test/fuzz/ is generated from them).
  universe: [universeRoutes, docsRoutes],
  screener: [screenerRoutes, docsRoutes],
  situations: [situationsRoutes, docsRoutes],
};
// Scanner and executor control routes live on engine (DESIGN §2: "breaker/guard/scanner/auto-tune control routes").

/** preValidation of routes without a body schema: any body at all is a 400 naming the route. */
async function refuseBody(request: FastifyRequest): Promise<void> {
  if (request.body !== undefined)
    throw new AppError('VALIDATION_FAILED', `${request.method} ${request.routeOptions.url} takes no request body`);
}

/** Method and URL of every route a listener registered (HEAD twins left out), in registration order. */
const ROUTES = new WeakMap<FastifyInstance, { method: string; url: string }[]>();
export function registeredRoutes(app: FastifyInstance): readonly { method: string; url: string }[] {
  return ROUTES.get(app) ?? [];
}

/**
 * Builds one listener (`ops` on 8002, `engine` on 8003), ready to `listen` or `inject`. Root-level pieces
 * (content types, error and not-found handlers, request log) are installed on the root instance so 404s and
 * framework errors share them; the zod compilers live only inside the encapsulated scope holding the routes
 * (reference/libraries.md §2, gotcha 1).
 */
export async function buildServer(deps: HttpDeps, listener: ListenerName): Promise<FastifyInstance> {
  if (!LISTENER_ROUTES[listener]) throw new AppError('CONFIG_INVALID', `unknown listener '${String(listener)}'`);
  const log = deps.log.child({ actor: `http:${listener}` });
  const app = Fastify({
    logger: false,
    // Keep-alive sockets would hold close() for seconds (reference/libraries.md §2, gotcha 3).
    forceCloseConnections: true,
    // Loopback by default; the audit log's `ip` must be the socket's, never a header the caller chose.
    trustProxy: false,
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 200 },
    // Unique across restarts: audit records carry it.
    genReqId: () => randomUUID(),
    frameworkErrors: onFrameworkError,
    clientErrorHandler: onClientError,
    // Node would answer a request without Host with its own empty 400; the host guard refuses it in our format.
    http: { requireHostHeader: false },
  });
  app.decorateRequest('command', null);

  const trail = createAuditTrail({ audit: deps.audit, metrics: deps.metrics, log });
  installHostGuard(app, { allowedHosts: deps.allowedHosts });
  installContentTypes(app);
  // The inspector page (engine origin) sends /kill here: loopback origins only (src/http/cors.ts).
  if (listener === 'ops') installLoopbackCors(app);
  installErrorHandling(app, { log, trail });
  if (log.isLevelEnabled('debug')) {
    // Method, path, status and time only: headers (X-Ops-Token, signatures) and bodies are never logged.
    app.addHook('onResponse', async (request, reply) => {
      log.debug(
        {
          requestId: request.id,
          method: request.method,
          path: (request.url.split('?')[0] ?? '').slice(0, 200),
          status: reply.statusCode,
          ms: Number(reply.elapsedTime.toFixed(2)),
        },
        'request',
      );
    });
  }

  const routes: { method: string; url: string }[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
    // A route that declares no body takes none: junk bodies on /backup once created 33 backups.
    if (!(r.schema as { body?: unknown } | undefined)?.body)
      r.preValidation = [...[r.preValidation ?? []].flat(), refuseBody] as typeof r.preValidation;
  });
  // OpenAPI at /docs (routes/docs.routes.ts): registered on the root before the zod scope so it sees its routes.
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: `Bosun ${listener} API`, version: '1' },
      components: {
        securitySchemes: { opsToken: { type: 'apiKey', in: 'header', name: 'X-Ops-Token' } },
      },
    },
    transform: jsonSchemaTransform,
  });

  const idempotency = createIdempotencyHooks({ idempotency: deps.idempotency, log, listener });
  const command: CommandHooks = {
    onRequest: [createAuthHook(deps)],
    preHandler: [idempotency.preHandler],
    onSend: [idempotency.onSend],
    onResponse: [idempotency.onResponse],
  };
  const ctx: RouteContext = { deps, listener, log, trail, command };

  await app.register(async (scope) => {
    const api = scope.withTypeProvider<ZodTypeProvider>();
    api.setValidatorCompiler(validatorCompiler);
    // Response schemas document (openapi-responses.ts) and are not enforced: JSON.stringify, as before they existed.
    api.setSerializerCompiler(() => (data) => JSON.stringify(data));
    api.addHook('onRoute', withResponseSchemas);
    for (const routes of LISTENER_ROUTES[listener]) routes(api, ctx);
  });
  await app.ready();
  return app;
}
