import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';

/**
 * Request bodies are JSON, whatever curl calls them. The runbook's `curl -d '{"enabled": false}'` sends no
 * Content-Type, so curl labels the JSON `application/x-www-form-urlencoded`: that label is parsed as JSON too
 * (and a real form body such as `enabled=false` is a 400 naming the problem). A POST without a body
 * (`curl -X POST …/reconcile/manual`) never reaches a parser; an empty body under a JSON label is `undefined`.
 * Anything else (text/plain, multipart…) is a 415.
 */
export const JSON_MEDIA_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;

const MAX_ECHO = 120;

/** Parses a request body as JSON; empty means no body. Refuses prototype-poisoning keys like secure-json-parse. */
export function parseJsonBody(text: string): unknown {
  if (text.trim().length === 0) return undefined;
  const reviver = /"(?:__proto__|constructor)"/.test(text) ? rejectPoison : undefined;
  try {
    return JSON.parse(text, reviver);
  } catch (e) {
    if (e instanceof AppError) throw e;
    const detail = e instanceof Error ? e.message.slice(0, MAX_ECHO) : 'parse error';
    throw new AppError('BAD_REQUEST', `request body is not valid JSON (${detail})`);
  }
}

function rejectPoison(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') throw new AppError('BAD_REQUEST', 'request body contains a forbidden "__proto__" key');
  if (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)
    throw new AppError('BAD_REQUEST', 'request body contains a forbidden "constructor.prototype" key');
  return value;
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
