import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  onRequestHookHandler,
  onResponseHookHandler,
  onSendHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../logging/logger.js';
import type { AuditTrail } from './audit-trail.js';
import type { HttpDeps, ListenerName } from './ports.js';

/** A Fastify scope whose routes are validated by zod schemas (set inside the encapsulated API plugin). */
export type ZodApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** Per-request state of a mutating route, set by the auth hook and read by idempotency, audit and errors. */
export interface CommandState {
  /** The token matched: anything that fails from here on is audited. */
  authenticated: boolean;
  /** The Idempotency-Key this request claimed (`new`); cleared once completed or abandoned. */
  claimedKey?: string | undefined;
  /** The key as sent, recorded in the audit log. */
  idempotencyKey?: string | undefined;
  /** The request's fingerprint under that key (an order journals it with its intent). */
  requestHash?: string | undefined;
  /** An audit record was written (or attempted) for this request: the error path must not add another. */
  audited: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Null on read-only routes. */
    command: CommandState | null;
  }
  interface FastifyContextConfig {
    /** Marks a mutating route; the audit action used when it fails before its handler records anything. */
    command?: string;
  }
}

/** The hooks every mutating route carries, spread into its route options. */
export interface CommandHooks {
  onRequest: onRequestHookHandler[];
  preHandler: preHandlerHookHandler[];
  onSend: onSendHookHandler[];
  onResponse: onResponseHookHandler[];
}

/** What a route module gets from `buildServer`. */
export interface RouteContext {
  deps: HttpDeps;
  listener: ListenerName;
  log: Logger;
  trail: AuditTrail;
  /** Auth (401), idempotency (replay/409/422) for mutating routes. */
  command: CommandHooks;
}

/** A route module: registers its routes on the zod-typed scope. */
export type RouteModule = (app: ZodApp, ctx: RouteContext) => void;
