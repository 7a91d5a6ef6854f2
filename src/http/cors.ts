import type { FastifyInstance } from 'fastify';

/**
 * Minimal CORS for the ops listener, so the inspector page (served by the engine listener, another port, hence
 * another origin) can send `/kill` with `X-Ops-Token` and `Idempotency-Key`. Only loopback origins are allowed:
 * any other origin gets no CORS headers and the browser refuses the call. The token is still required; CORS only
 * decides which pages may present one. No credentials (cookies) are ever allowed.
 */
const LOOPBACK_ORIGIN = /^https?:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?$/;
const ALLOW_HEADERS = 'content-type, x-ops-token, x-ops-actor, idempotency-key';

export function isLoopbackOrigin(origin: string): boolean {
  return LOOPBACK_ORIGIN.test(origin);
}

export function installLoopbackCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !isLoopbackOrigin(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'Origin');
    reply.header('access-control-expose-headers', 'idempotent-replayed, retry-after');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', ALLOW_HEADERS)
        .header('access-control-max-age', '600');
      return reply.send();
    }
  });
}
