import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, type ErrorCode } from '../../domain/errors.js';
import { JSON_MEDIA_TYPES, parseJsonBody } from '../content-types.plugin.js';
import { toHttpError } from '../error.plugin.js';
import {
  anonymousEventKey,
  createMemoryReplay,
  parseSignatureHeader,
  parseTimestampHeader,
  SIGNATURE_HEADER,
  signatureMatches,
  TIMESTAMP_HEADER,
} from '../external-events.js';
import { isLoopbackIp } from '../host-guard.js';
import type { ExternalEventsPort } from '../ports.js';
import type { RouteContext, ZodApp } from '../route-context.js';

export const DEFAULT_EVENTS_BODY_LIMIT = 64 * 1024;
export const DEFAULT_EVENTS_TOLERANCE_SEC = 300;
/** How long an event that carries no timestamp at all is remembered (the runbook's curl sends none). */
export const DEFAULT_REPLAY_WINDOW_SEC = 7 * 86_400;
/** Replay-cache bound: ids beyond it evict the oldest (only signed events get in, so only the secret holder). */
export const REPLAY_CACHE_MAX = 100_000;
/** Distinct `source` label values exported; later sources are counted as `other` (label cardinality). */
export const MAX_SOURCE_LABELS = 32;
const REFUSAL_LOG_EVERY_MS = 10_000;

const SOURCE = /^[A-Za-z0-9_.:-]{1,64}$/;
const EVENT_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The body of an external event, checked only after its signature (the runbook's is
 * `{"source":"test_harness","payload":{"symbol":"FOOUSDT"}}`). `id` makes the replay check exact; `ts`
 * (epoch seconds at the source) must be inside the tolerance window when present.
 */
export const ExternalEventBody = z.strictObject(
  {
    source: z.string().regex(SOURCE, 'source must be 1-64 of A-Z a-z 0-9 _ . : -'),
    payload: z.record(z.string(), z.unknown()),
    id: z.string().regex(EVENT_ID, 'id must be 1-128 printable ASCII characters without spaces').optional(),
    ts: z.number().int().nonnegative().optional(),
  },
  {
    error: (iss) => (iss.input == null ? 'a JSON body {"source": "…", "payload": {…}} is required' : undefined),
  },
);

/** Why a request was refused, as `external_feed_errors_total{reason}` counts it. */
type Refusal =
  | 'not_configured'
  | 'unsigned_refused'
  | 'missing_signature'
  | 'bad_signature'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'replay'
  | 'too_large'
  | 'bad_media_type'
  | 'bad_json'
  | 'invalid_body'
  | 'publish_failed';

const REASON_BY_CODE: Partial<Record<ErrorCode, Refusal>> = {
  PAYLOAD_TOO_LARGE: 'too_large',
  UNSUPPORTED_MEDIA_TYPE: 'bad_media_type',
  BAD_REQUEST: 'bad_json',
  VALIDATION_FAILED: 'invalid_body',
};

/**
 * `POST /events/external` (engine, DESIGN §9). In order: the port must exist (503); with a secret set the
 * `X-Events-Signature` header must be present and well formed and an `X-Events-Timestamp`, if sent, inside the
 * window (401 at `onRequest`, before a byte of body is read); the body is read as raw bytes up to
 * `EXTERNAL_EVENTS_MAX_BODY_BYTES` (413) and its HMAC compared in constant time (401) before `JSON.parse`;
 * then zod validation (400), the body `ts` window and the replay cache (401). Accepted events are published
 * onto `events.external_feed` and answered 202. Refusals are counted and logged (throttled), never written to
 * the operator audit log: unauthenticated traffic must not grow it.
 */
export function eventsRoutes(app: ZodApp, ctx: RouteContext): void {
  const port: ExternalEventsPort | undefined = ctx.deps.events;
  const { metrics } = ctx.deps;
  const log = ctx.log.child({ route: 'events.external' });
  const secret = port?.secret ?? '';
  const maxBody = port?.maxBodyBytes ?? DEFAULT_EVENTS_BODY_LIMIT;
  const toleranceSec = port?.toleranceSec ?? DEFAULT_EVENTS_TOLERANCE_SEC;
  const now = port?.now ?? Date.now;
  const unsigned = port?.unsigned ?? 'loopback';
  const requireTimestamp = port?.requireTimestamp ?? false;
  const replayWindowMs = (port?.replayWindowSec ?? DEFAULT_REPLAY_WINDOW_SEC) * 1000;
  // Persisted in LMDB by main.ts, so a captured event stays refused across restarts.
  const replay = port?.replay ?? createMemoryReplay(REPLAY_CACHE_MAX);

  const verified = new WeakSet<FastifyRequest>();
  const anonymousKeys = new WeakMap<FastifyRequest, string>();
  const refusals = new WeakMap<FastifyRequest, Refusal>();
  const refuse = (request: FastifyRequest, reason: Refusal, code: ErrorCode, message: string) => {
    refusals.set(request, reason);
    return new AppError(code, message);
  };

  const sourceLabels = new Set<string>();
  const label = (source: string): string => {
    if (sourceLabels.has(source)) return source;
    if (sourceLabels.size >= MAX_SOURCE_LABELS) return 'other';
    sourceLabels.add(source);
    return source;
  };

  let warnedUnsigned = false;
  const lastLogged = new Map<Refusal, { at: number; suppressed: number }>();
  const logRefusal = (reason: Refusal, status: number, message: string) => {
    const t = Date.now();
    const last = lastLogged.get(reason);
    if (last && t - last.at < REFUSAL_LOG_EVERY_MS) {
      last.suppressed += 1;
      return;
    }
    log.warn({ reason, status, suppressed: last?.suppressed ?? 0 }, `external event refused: ${message}`);
    lastLogged.set(reason, { at: t, suppressed: 0 });
  };

  // reply.elapsedTime is 0 on a route without a logger or onResponse hook: the route keeps its own clock.
  const receivedAt = new WeakMap<FastifyRequest, number>();
  const checkHeaders = async (request: FastifyRequest) => {
    receivedAt.set(request, performance.now());
    if (!port) throw refuse(request, 'not_configured', 'NOT_READY', 'the external event feed is not running');
    if (secret.length === 0) {
      // Unsigned events: nothing in live mode; in paper mode only from this machine and never from a browser page
      // on another origin (the host guard already refuses cross-site; a same-site page is refused here too).
      if (unsigned === 'refuse')
        throw refuse(
          request,
          'unsigned_refused',
          'UNAUTHORIZED',
          'EXTERNAL_EVENTS_SECRET is not set: events are refused',
        );
      const site = request.headers['sec-fetch-site'];
      if (
        !isLoopbackIp(request.socket.remoteAddress ?? '') ||
        (site !== undefined && site !== 'same-origin' && site !== 'none')
      )
        throw refuse(
          request,
          'unsigned_refused',
          'UNAUTHORIZED',
          'unsigned events are accepted only from loopback, same-origin callers; set EXTERNAL_EVENTS_SECRET',
        );
      return;
    }
    const signature = request.headers[SIGNATURE_HEADER];
    if (signature === undefined)
      throw refuse(request, 'missing_signature', 'UNAUTHORIZED', 'missing X-Events-Signature header');
    if (parseSignatureHeader(signature) === null)
      throw refuse(request, 'bad_signature', 'UNAUTHORIZED', 'X-Events-Signature must be sha256=<64 hex digits>');
    const tsHeader = request.headers[TIMESTAMP_HEADER];
    if (tsHeader === undefined) {
      if (requireTimestamp)
        throw refuse(request, 'bad_timestamp', 'UNAUTHORIZED', 'missing X-Events-Timestamp header (required)');
      return;
    }
    const ts = parseTimestampHeader(tsHeader);
    if (ts === null)
      throw refuse(request, 'bad_timestamp', 'UNAUTHORIZED', 'X-Events-Timestamp must be epoch seconds (digits)');
    if (Math.abs(now() / 1000 - ts) > toleranceSec)
      throw refuse(
        request,
        'stale_timestamp',
        'UNAUTHORIZED',
        `X-Events-Timestamp is outside the ±${toleranceSec} s window`,
      );
  };

  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    // This scope's only parser: the raw bytes, whatever the label, so the HMAC sees exactly what was sent. It
    // never fails (but for the size limit): an error from a parser makes Fastify close the connection, which would
    // turn every refused event into a reconnect. The checks run next, in `preValidation`.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBody }, (_request, raw, done) => {
      done(null, raw);
    });

    // Signature (constant time), media type, then JSON.parse; zod validation follows on the parsed body.
    const verify = async (request: FastifyRequest) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (secret.length > 0) {
        const tsHeader = request.headers[TIMESTAMP_HEADER];
        const ts = typeof tsHeader === 'string' ? tsHeader : undefined;
        if (!signatureMatches(secret, body, request.headers[SIGNATURE_HEADER], ts))
          throw refuse(request, 'bad_signature', 'UNAUTHORIZED', 'X-Events-Signature does not match the body');
      } else if (!warnedUnsigned) {
        warnedUnsigned = true;
        log.warn('EXTERNAL_EVENTS_SECRET is not set: accepting unsigned external events');
      }
      const type = request.headers['content-type'];
      const media = type?.split(';')[0]?.trim().toLowerCase();
      if (media !== undefined && !(JSON_MEDIA_TYPES as readonly string[]).includes(media))
        throw refuse(
          request,
          'bad_media_type',
          'UNSUPPORTED_MEDIA_TYPE',
          `unsupported Content-Type '${type?.slice(0, 120)}': send JSON (application/json)`,
        );
      request.body = undefined;
      const parsed = parseJsonBody(body.toString('utf8'));
      verified.add(request);
      // Unsigned mode keys on the body: a header nobody checked must not make a resend look new.
      anonymousKeys.set(
        request,
        anonymousEventKey(body, secret.length > 0 ? request.headers[SIGNATURE_HEADER] : undefined),
      );
      request.body = parsed;
    };

    scope.addHook('onError', async (request, reply, err) => {
      const e = toHttpError(err);
      const reason = refusals.get(request) ?? REASON_BY_CODE[e.code] ?? 'publish_failed';
      const body = request.body as { source?: unknown } | undefined;
      const source = verified.has(request) && typeof body?.source === 'string' ? body.source : 'unknown';
      metrics.externalFeedErrors.inc({ source: SOURCE.test(source) ? label(source) : 'unknown', reason });
      logRefusal(reason, reply.statusCode, e.message);
    });

    scope.post(
      '/events/external',
      {
        schema: { body: ExternalEventBody },
        bodyLimit: maxBody,
        onRequest: [checkHeaders],
        preValidation: [verify],
      },
      async (request, reply) => {
        // Fail closed: a body that never went through `verify` is never published.
        if (!port || !verified.has(request))
          throw refuse(request, 'bad_signature', 'UNAUTHORIZED', 'the request body was not verified');
        const b = request.body;
        const t = now();
        if (b.ts !== undefined && Math.abs(t / 1000 - b.ts) > toleranceSec)
          throw refuse(request, 'stale_timestamp', 'UNAUTHORIZED', `body ts is outside the ±${toleranceSec} s window`);
        const key = b.id !== undefined ? `id:${b.source}:${b.id}` : (anonymousKeys.get(request) ?? '');
        // A timestamped event can be replayed while |now - ts| ≤ tolerance: at most 2 × tolerance after acceptance.
        // One with no timestamp anywhere can be replayed at any time: it is remembered for the long window.
        const timestamped = b.ts !== undefined || request.headers[TIMESTAMP_HEADER] !== undefined;
        const expiresAt = t + (timestamped ? 2 * toleranceSec * 1000 : replayWindowMs);
        if (!(await replay.claim(key, expiresAt, t)))
          throw refuse(
            request,
            'replay',
            'UNAUTHORIZED',
            b.id !== undefined
              ? `event id '${b.id}' was already accepted (replay)`
              : 'this event was already accepted (replay)',
          );
        const id = b.id ?? randomUUID();
        try {
          port.publish({ id, source: b.source, receivedAt: t, payload: b.payload });
        } catch (e) {
          await replay.release(key);
          throw e;
        }
        const source = label(b.source);
        metrics.externalFeedEvents.inc({ source });
        metrics.externalFeedLastEvent.set({ source }, Math.floor(t / 1000));
        metrics.externalFeedFetchLatencyMs.observe(
          { source },
          performance.now() - (receivedAt.get(request) ?? performance.now()),
        );
        reply.code(202);
        return { accepted: true, id };
      },
    );
  });
}
