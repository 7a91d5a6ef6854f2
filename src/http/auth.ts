import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { HttpDeps } from './ports.js';

export const OPS_TOKEN_HEADER = 'x-ops-token';
export const OPS_ACTOR_HEADER = 'x-ops-actor';
const MAX_ACTOR_CHARS = 64;

/**
 * Both sides are hashed to 32-byte digests before `timingSafeEqual`: it throws on unequal lengths, and a length
 * check before it would leak the token's length (reference/performance-and-safety.md §3.1).
 */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Constant-time check of a presented token against the configured one; an empty configured token never matches. */
export function tokenMatches(presented: string, expectedDigest: Buffer, configured: boolean): boolean {
  const ok = timingSafeEqual(digest(presented), expectedDigest);
  return ok && configured;
}

/**
 * The `X-Ops-Token` check of every mutating route (DESIGN §9), run at `onRequest`: before the body is read or
 * validated, so an unauthenticated caller learns nothing about the schema and cannot make us parse 64 KiB.
 * Read-only routes do not carry it (they are open on loopback).
 */
export function createAuthHook(deps: Pick<HttpDeps, 'opsToken' | 'metrics'>): onRequestHookHandler {
  const expected = digest(deps.opsToken);
  const configured = deps.opsToken.length > 0;
  return async (request) => {
    const presented = request.headers[OPS_TOKEN_HEADER];
    if (typeof presented !== 'string' || presented.length === 0) {
      deps.metrics.authFailures.inc();
      throw new AppError('UNAUTHORIZED', 'missing X-Ops-Token header');
    }
    if (!tokenMatches(presented, expected, configured)) {
      deps.metrics.authFailures.inc();
      throw new AppError('UNAUTHORIZED', 'invalid X-Ops-Token');
    }
    request.command = { authenticated: true, audited: false };
  };
}

/**
 * The operator's call-sign for the audit log and governance (`X-Ops-Actor`, default `unknown`). Kept to
 * printable ASCII and 64 characters rather than refused: a kill must never fail over a cosmetic header.
 */
export function opsActor(request: FastifyRequest): string {
  const raw = request.headers[OPS_ACTOR_HEADER];
  const value = typeof raw === 'string' ? raw.replace(/[^\x20-\x7e]/g, '').trim() : '';
  return value.length > 0 ? value.slice(0, MAX_ACTOR_CHARS) : 'unknown';
}
