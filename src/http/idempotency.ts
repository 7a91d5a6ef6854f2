import { createHash } from 'node:crypto';
import type { FastifyRequest, onResponseHookHandler, onSendHookHandler, preHandlerHookHandler } from 'fastify';
import { canonicalJson } from '../domain/canonical-json.js';
import { AppError, errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { IdempotencyPort, ListenerName } from './ports.js';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
/** Stripe's limit (performance-and-safety §3.2); longer keys are refused, never truncated (truncation collides). */
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;
const KEY_PATTERN = /^[\x20-\x7e]+$/;

/**
 * The fingerprint compared when a key is reused: method, URL (path and query) and the validated body as
 * canonical JSON, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. SHA-256 over domain's canonical JSON:
 * the same bytes as the store's sha256Canonical, so keys recorded by an older build still compare equal.
 */
export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(canonicalJson({ method, url, body: body ?? null }))
    .digest('hex');
}

function keyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers[IDEMPOTENCY_KEY_HEADER];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_IDEMPOTENCY_KEY_CHARS || !KEY_PATTERN.test(raw))
    throw new AppError(
      'VALIDATION_FAILED',
      `Idempotency-Key must be 1-${MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters`,
    );
  return raw;
}

/**
 * `Idempotency-Key` on mutating routes (DESIGN §9, IETF draft semantics). The key is optional (the runbook's
 * `/strategy/weights` curl sends none). `preHandler` runs after auth and validation, so a refused or malformed
 * request never claims a key; `onSend` stores a 2xx answer durably *before* it is written to the socket (a
 * client that saw the 200 can always replay it) and releases the claim of anything else, because our handlers
 * only fail before their effect. `onResponse` is the safety net that releases a claim nothing else released.
 */
export function createIdempotencyHooks(deps: { idempotency: IdempotencyPort; log: Logger; listener: ListenerName }): {
  preHandler: preHandlerHookHandler;
  onSend: onSendHookHandler;
  onResponse: onResponseHookHandler;
} {
  const release = async (request: FastifyRequest, key: string) => {
    try {
      await deps.idempotency.abandon(key);
    } catch (e) {
      deps.log.error({ err: errorMessage(e), requestId: request.id }, 'idempotency abandon failed');
    }
  };

  const preHandler: preHandlerHookHandler = async (request, reply) => {
    const state = request.command;
    const key = keyOf(request);
    if (key === undefined || !state) return;
    state.idempotencyKey = key;
    const scope = `${deps.listener} ${request.method} ${request.routeOptions.url ?? request.url}`;
    state.requestHash = requestHash(request.method, request.url, request.body);
    const begun = await deps.idempotency.begin(key, state.requestHash, scope);
    switch (begun.kind) {
      case 'new':
        state.claimedKey = key;
        return;
      case 'replay':
        // A replay is not a new command: no audit record, no effect. Sent as text so no serializer reshapes it.
        state.audited = true;
        reply
          .code(begun.status)
          .header(REPLAYED_HEADER, 'true')
          .type('application/json; charset=utf-8')
          .send(JSON.stringify(begun.body));
        return reply;
      case 'mismatch':
        throw new AppError('IDEMPOTENCY_MISMATCH', 'Idempotency-Key was already used with a different request');
      case 'in_flight':
        throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'a request with this Idempotency-Key is still running; retry');
    }
  };

  const onSend: onSendHookHandler = async (request, reply, payload) => {
    const key = request.command?.claimedKey;
    if (key === undefined || !request.command) return payload;
    request.command.claimedKey = undefined;
    if (reply.statusCode < 200 || reply.statusCode >= 300) {
      await release(request, key);
      return payload;
    }
    try {
      await deps.idempotency.complete(key, reply.statusCode, typeof payload === 'string' ? JSON.parse(payload) : null);
      return payload;
    } catch (e) {
      // The effect is applied but its answer is not stored: the client must not take this as a replayable ack.
      deps.log.error({ err: errorMessage(e), requestId: request.id }, 'idempotency complete failed');
      reply.code(503);
      return JSON.stringify({ error: { code: 'STORE_FAILED', message: 'could not store the idempotent response' } });
    }
  };

  const onResponse: onResponseHookHandler = async (request) => {
    const key = request.command?.claimedKey;
    if (key === undefined || !request.command) return;
    request.command.claimedKey = undefined;
    await release(request, key);
  };

  return { preHandler, onSend, onResponse };
}
