import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import { checkJsonShape, DEFAULT_JSON_LIMITS, type JsonLimits, textDepthExceeds } from './json-limits.js';

/**
 * Request bodies are JSON, whatever curl calls them. The runbook's `curl -d '{"enabled": false}'` sends no
 * Content-Type, so curl labels the JSON `application/x-www-form-urlencoded`: that label is parsed as JSON too
 * (and a real form body such as `enabled=false` is a 400 naming the problem). A POST without a body
 * (`curl -X POST …/reconcile/manual`) never reaches a parser; an empty body under a JSON label is `undefined`.
 * Anything else (text/plain, multipart…) is a 415.
 */
export const JSON_MEDIA_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;

const MAX_ECHO = 120;

/**
 * Parses a request body as JSON; empty means no body. The depth is checked on the text before parsing and the
 * other limits and the prototype-poisoning keys on the result (src/http/json-limits.ts), so nothing downstream
 * ever sees a body it cannot walk.
 */
export function parseJsonBody(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  if (text.trim().length === 0) return undefined;
  if (textDepthExceeds(text, limits.maxDepth))
    throw new AppError('BAD_REQUEST', `request body is nested deeper than ${limits.maxDepth} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message.slice(0, MAX_ECHO) : 'parse error';
    throw new AppError('BAD_REQUEST', `request body is not valid JSON (${detail})`);
  }
  checkJsonShape(parsed, limits);
  return parsed;
}

type Done = (err: Error | null, body?: unknown) => void;

function parseOrFail(request: FastifyRequest, body: string | Buffer, done: Done): void {
  // A 404/405 answers as such, not with a complaint about a body nobody will read.
  if (request.is404) {
    done(null, undefined);
    return;
  }
  try {
    done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
  } catch (e) {
    done(e as Error, undefined);
  }
}

/** Replaces Fastify's parsers on the root instance (inherited by every scope). `bodyLimit` still applies. */
export function installContentTypes(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...JSON_MEDIA_TYPES], { parseAs: 'string' }, parseOrFail);
  // The catch-all sees bodies with no Content-Type (parsed as JSON: a bare `-d` from some clients) and every
  // other media type (415).
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const type = request.headers['content-type'];
    if (type === undefined || request.is404) {
      parseOrFail(request, body, done);
      return;
    }
    done(
      new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `unsupported Content-Type '${type.slice(0, MAX_ECHO)}': send JSON (application/json)`,
      ),
      undefined,
    );
  });
}
