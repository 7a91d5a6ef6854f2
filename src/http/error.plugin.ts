import { STATUS_CODES as HTTP_REASONS, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ERROR_CODES, type ErrorCode, isAppError } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { AuditTrail } from './audit-trail.js';

/** The one error body of the API (DESIGN §9). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export interface HttpError {
  status: number;
  code: ErrorCode;
  message: string;
}

const MAX_MESSAGE = 500;
const GENERIC_INTERNAL = 'internal error; the request id is in the server log';

/** Fastify's own errors that are the client's fault, by code. Everything else unknown is a 500. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'BAD_REQUEST',
};

/** Other 4xx statuses Fastify or Node may attach, mapped onto the catalogue (its status wins). */
const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
};

/** Codes that tell the client to come back: they get `Retry-After`. */
const RETRY_AFTER_S: Partial<Record<ErrorCode, number>> = {
  ACTOR_UNAVAILABLE: 1,
  IDEMPOTENCY_IN_FLIGHT: 1,
  NOT_READY: 1,
  RATE_LIMITED: 1,
  VENUE_UNAVAILABLE: 5,
};

/** Idempotency refusals are not commands: the first request with the key is the one that is audited. */
const NOT_AUDITED: ReadonlySet<ErrorCode> = new Set(['IDEMPOTENCY_IN_FLIGHT', 'IDEMPOTENCY_MISMATCH', 'UNAUTHORIZED']);

function validationMessage(err: FastifyError): string {
  const where = err.validationContext ?? 'request';
  const issues = (err.validation ?? []).slice(0, 3).map((v) => {
    const path = v.instancePath.split('/').filter(Boolean).join('.');
    return `${path ? `${where}.${path}` : where}: ${v.message ?? 'invalid'}`;
  });
  return issues.length > 0 ? issues.join('; ') : err.message;
}

/**
 * Maps anything thrown to a status, a catalogue code and a message safe to show. Only this module turns codes
 * into statuses (STYLE.md); unexpected errors become a generic 500 whose detail stays in the log.
 */
export function toHttpError(err: unknown): HttpError {
  if (isAppError(err)) return { status: ERROR_CODES[err.code].status, code: err.code, message: err.message };
  if (hasZodFastifySchemaValidationErrors(err) || (isFastifyError(err) && Array.isArray(err.validation)))
    return { status: 400, code: 'VALIDATION_FAILED', message: validationMessage(err as FastifyError) };
  if (isFastifyError(err)) {
    const byCode = err.code ? FASTIFY_CODES[err.code] : undefined;
    const status = err.statusCode ?? 500;
    const code = byCode ?? (status >= 400 && status < 500 ? (STATUS_CODES[status] ?? 'BAD_REQUEST') : undefined);
    if (code) return { status: ERROR_CODES[code].status, code, message: err.message };
  }
  return { status: 500, code: 'INTERNAL', message: GENERIC_INTERNAL };
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && ('statusCode' in err || 'code' in err || 'validation' in err);
}

/** Writes the error body; used by the error handler, the not-found handler and Fastify's framework errors. */
export function sendError(reply: FastifyReply, e: HttpError): FastifyReply {
  const retry = RETRY_AFTER_S[e.code];
  if (retry !== undefined) reply.header('retry-after', String(retry));
  const body: ErrorBody = { error: { code: e.code, message: e.message.slice(0, MAX_MESSAGE) } };
  return reply.code(e.status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

const METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Installs the error and not-found handlers on the root instance (every scope inherits them). Fastify answers
 * a known path with the wrong method with 404; we answer 405 with `Allow`, which tells an operator whose
 * `curl` forgot `-X POST` what went wrong.
 */
export function installErrorHandling(app: FastifyInstance, deps: { log: Logger; trail: AuditTrail }): void {
  app.setErrorHandler(async (err, request, reply) => {
    const e = toHttpError(err);
    if (e.status >= 500)
      deps.log[e.code === 'INTERNAL' ? 'error' : 'warn'](
        { err, requestId: request.id, method: request.method, url: request.url.slice(0, 200), code: e.code },
        'request failed',
      );
    if (!NOT_AUDITED.has(e.code)) await deps.trail.recordFailure(request, e.code, e.message);
    return sendError(reply, e);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = (request.url.split('?')[0] ?? '/').slice(0, 2048);
    const allow = allowedMethods(app, path, request.method);
    if (allow.length > 0) {
      reply.header('allow', allow.join(', '));
      return sendError(reply, {
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
        message: `${request.method} is not allowed on ${path.slice(0, 100)}; use ${allow.join(', ')}`,
      });
    }
    return sendError(reply, {
      status: 404,
      code: 'NOT_FOUND',
      message: `no route ${request.method} ${path.slice(0, 100)}`,
    });
  });
}

function allowedMethods(app: FastifyInstance, path: string, method: string): HTTPMethods[] {
  const out: HTTPMethods[] = [];
  for (const m of METHODS) {
    if (m === method) continue;
    try {
      if (app.findRoute({ method: m, url: path })) out.push(m);
    } catch {
      // A path the router cannot even parse matches nothing.
    }
  }
  return out;
}

/** `frameworkErrors` option: a URL the router cannot decode, a parameter over the length limit. */
export function onFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  sendError(reply, toHttpError(err));
}

/**
 * `clientErrorHandler` option: what Node's HTTP parser refuses before Fastify sees a request (a bad
 * Content-Length, control characters in the request line or a header, headers over the size limit, a timeout).
 * Fastify's default answers those in its own shape; this writes the one error body of the API instead.
 *
 * The bytes refused can follow a complete request on the same connection (a short Content-Length, pipelining):
 * that request is already running. Its answer goes out first and the refusal after it; writing the refusal at
 * once would tell the client "400" for a command that still takes effect.
 */
export function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e: HttpError =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request was not received in time' }
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? { status: 431, code: 'HEADERS_TOO_LARGE', message: 'request headers are over the size limit' }
        : { status: 400, code: 'BAD_REQUEST', message: `malformed HTTP request (${clientErrorReason(err.code)})` };
  // Node's own handler checks the same slot: the response in flight on this socket, if any.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished) {
    inFlight.once('finish', () => refuseOnSocket(socket, e));
    inFlight.once('close', () => socket.destroy());
    return;
  }
  refuseOnSocket(socket, e);
}

function refuseOnSocket(socket: Duplex, e: HttpError): void {
  const body = JSON.stringify({ error: { code: e.code, message: e.message } } satisfies ErrorBody);
  if (socket.writable && !socket.destroyed)
    socket.write(
      `HTTP/1.1 ${e.status} ${HTTP_REASONS[e.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}

/** llhttp's error codes, as a short phrase an operator can act on. */
function clientErrorReason(code: string | undefined): string {
  switch (code) {
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return 'bad Content-Length';
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'invalid character in a header';
    case 'HPE_INVALID_URL':
      return 'invalid character in the URL';
    case 'HPE_INVALID_METHOD':
      return 'unknown method';
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return 'bad Transfer-Encoding';
    default:
      return 'unparseable request';
  }
}
