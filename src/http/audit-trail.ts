import type { FastifyRequest } from 'fastify';
import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { opsActor } from './auth.js';
import type { AuditPort } from './ports.js';

/** What a route handler knows about the command it ran; who, from where and which request are added here. */
export interface CommandRecord {
  action: string;
  target?: string | undefined;
  before?: unknown;
  after?: unknown;
  result: 'ok' | 'error';
  reason?: string | undefined;
}

export interface AuditTrail {
  /** Writes the audit record of a command durably; the caller awaits it before replying (DESIGN §1). */
  record(request: FastifyRequest, entry: CommandRecord): Promise<{ seq: number }>;
  /** Records an authenticated command that failed, once per request; logs rather than throws. */
  recordFailure(request: FastifyRequest, code: string, message: string): Promise<void>;
}

/** Binds the audit port to request facts (X-Ops-Actor, remote address, request id, Idempotency-Key). */
export function createAuditTrail(deps: { audit: AuditPort; metrics: Metrics; log: Logger }): AuditTrail {
  const write = async (request: FastifyRequest, entry: CommandRecord) => {
    const state = request.command;
    // Marked first: if the append itself fails, the error path must not try a second record for this request.
    if (state) state.audited = true;
    deps.metrics.opsCommands.inc({ command: entry.action, result: entry.result });
    return deps.audit.append({
      actor: opsActor(request),
      action: entry.action,
      target: entry.target,
      ip: request.ip,
      before: entry.before,
      after: entry.after,
      result: entry.result,
      reason: entry.reason,
      requestId: request.id,
      idempotencyKey: state?.idempotencyKey,
    });
  };

  return {
    async record(request, entry) {
      const { seq } = await write(request, entry);
      return { seq };
    },
    async recordFailure(request, code, message) {
      const state = request.command;
      const action = request.routeOptions.config.command;
      if (!state?.authenticated || state.audited || action === undefined) return;
      const params = request.params as Record<string, unknown> | undefined;
      try {
        await write(request, {
          action,
          target: typeof params?.id === 'string' ? params.id : undefined,
          result: 'error',
          reason: `${code}: ${message}`.slice(0, 500),
        });
      } catch (e) {
        deps.log.error(
          { err: errorMessage(e), action, requestId: request.id },
          'audit append failed for a failed command',
        );
      }
    },
  };
}
