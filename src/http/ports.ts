import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ExecutorPort } from '../supervisor/executor-port.js';
import type { GuardsPort } from '../supervisor/guards-port.js';
import type { RuntimePort } from '../supervisor/runtime-port.js';
import type { ScannerPort } from '../supervisor/scanner-port.js';
import type { SituationsPort } from '../supervisor/situations-port.js';
import type { TradingPort } from '../supervisor/trading-port.js';
import type { GoLivePort } from './routes/golive.routes.js';

/**
 * What the HTTP layer needs from the rest of Bosun, as small structural interfaces. The LMDB stores in
 * `src/store/` (`store.idempotency`, `store.audit`) satisfy them as they are; tests may pass fakes.
 */

/** The outcome of claiming an idempotency key (draft-ietf-httpapi-idempotency-key-header terms). */
export type IdempotencyBegin =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

export interface IdempotencyPort {
  /** Claims `key` for a request, or says why not. The store does this synchronously; a promise is accepted too. */
  begin(key: string, requestHash: string, scope: string): IdempotencyBegin | Promise<IdempotencyBegin>;
  /** Stores the answer of a claimed request durably and releases the claim. */
  complete(key: string, status: number, body: unknown): Promise<void>;
  /** Releases a claim whose request failed before it had an effect. */
  abandon(key: string): void | Promise<void>;
}

/** One operator command as it is written to the hash-chained audit log. */
export interface AuditEntryInput {
  actor: string;
  action: string;
  target?: string;
  ip?: string;
  before?: unknown;
  after?: unknown;
  result: string;
  reason?: string;
  requestId?: string;
  idempotencyKey?: string;
}

/** A committed audit record as `GET /audit` shows it. */
export interface AuditEntry extends AuditEntryInput {
  seq: number;
  ts: number;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  limit: number;
  since?: number;
  actor?: string;
  action?: string;
}

export interface AuditPort {
  /** Appends a record; resolves only after the durable commit. */
  append(record: AuditEntryInput): Promise<{ seq: number; hash: string }>;
  /** Newest first. */
  list(query: AuditQuery): readonly AuditEntry[] | Promise<readonly AuditEntry[]>;
}

export type ListenerName = 'ops' | 'engine' | 'universe' | 'screener' | 'situations';

export interface HttpDeps {
  runtime: RuntimePort;
  metrics: Metrics;
  log: Logger;
  /** The `X-Ops-Token` every mutating route requires. Empty refuses every mutating request (fail closed). */
  opsToken: string;
  idempotency: IdempotencyPort;
  audit: AuditPort;
  /** Bytes; default 64 KiB. */
  bodyLimit?: number;
  /**
   * Host names the listeners answer to besides `localhost` and loopback IPs: `BIND_HOST` and `ALLOWED_HOSTS`
   * (src/http/host-guard.ts). Any other `Host` is a 403, which closes DNS rebinding.
   */
  allowedHosts?: readonly string[] | undefined;
  /** The trading pipeline (orders, state, reconcile, weights, breakers); its routes answer 503 without it. */
  trading?: TradingPort | undefined;
  /** The symbol scanner (universe, screener listeners, `POST /scanner/rescan`); 503 without it. */
  scanner?: ScannerPort | undefined;
  /** The executor (`/executor`, `POST /executor/stop|start`); 503 without it. */
  executor?: ExecutorPort | undefined;
  /** Active incidents (situations listener); 503 without it. */
  situations?: SituationsPort | undefined;
  /** Per-client rate limit of `GET /scan` and `GET /universe`: burst and refill per second (default 20, 5/s). */
  screenerRateLimit?: { burst: number; perSec: number } | undefined;
  /** The money guards (`GET /guards`, depeg re-arm); their routes answer 503 without it. */
  guards?: GuardsPort | undefined;
  /** The live inspector (`/inspector`, `/inspect/stream` on engine); every field optional. */
  inspector?: InspectorDeps | undefined;
  /** `POST /backup` (the `bosun backup` CLI); the route answers 503 without it. */
  backup?: BackupPort | undefined;
  /** `GET /golive` (the staged go-live report); 503 without it. */
  golive?: GoLivePort | undefined;
  /** `events.external_feed` for `POST /events/external`; that route answers 503 without it. */
  events?: ExternalEventsPort | undefined;
}

/** One accepted external event as it is published onto `events.external_feed`. */
export interface PublishedExternalEvent {
  id: string;
  source: string;
  /** Epoch ms at which Bosun accepted it. */
  receivedAt: number;
  payload: Record<string, unknown>;
}

/**
 * `POST /events/external` (engine): where accepted events go and how they are checked. The route answers 503
 * without it.
 */
export interface ExternalEventsPort {
  /** `EXTERNAL_EVENTS_SECRET`; empty or unset accepts unsigned events (a warning is logged once). */
  secret?: string | undefined;
  /** `EXTERNAL_EVENTS_MAX_BODY_BYTES`; default 64 KiB. */
  maxBodyBytes?: number | undefined;
  /** Accepted clock skew of `X-Events-Timestamp` and of the body's `ts`, seconds; default 300. */
  toleranceSec?: number | undefined;
  /** Epoch ms; tests move it. Default `Date.now`. */
  now?: (() => number) | undefined;
  /**
   * Without a secret: `loopback` (paper mode) accepts unsigned events only from a loopback peer and never from a
   * browser on another origin; `refuse` (live mode) accepts nothing. Default `loopback`.
   */
  unsigned?: 'loopback' | 'refuse' | undefined;
  /** With a secret, refuse events without `X-Events-Timestamp` (`EXTERNAL_EVENTS_REQUIRE_TIMESTAMP`). */
  requireTimestamp?: boolean | undefined;
  /** How long an event without any timestamp is remembered for the replay check, seconds; default 7 days. */
  replayWindowSec?: number | undefined;
  /** The persisted seen-set (LMDB); without it an in-memory one, which forgets on restart. */
  replay?: ReplayPort | undefined;
  publish(e: PublishedExternalEvent): void;
}

/** Accepted external event ids/signatures, kept until they expire (src/store/replay.store.ts). */
export interface ReplayPort {
  claim(key: string, expiresAt: number, now: number): Promise<boolean>;
  release(key: string): Promise<void>;
}

/**
 * A consistent copy of the LMDB environment taken while Bosun runs, written under `state/backups/`, with the
 * `portfolio.json` that goes with it (copied just before; null when there is none yet).
 */
export interface BackupPort {
  snapshotDb(): Promise<{ path: string; bytes: number; portfolio: string | null; at: number }>;
}

export interface InspectorDeps {
  /** The ops listener's bound port, so the page can send `/kill` there (known only once ops listens). */
  opsPort?: () => number | undefined;
  /** SSE comment line to keep proxies and the browser from timing the stream out; default 15 s. */
  heartbeatMs?: number;
  /** Event lines are batched and flushed at this interval, capped per flush; default 250 ms. */
  eventFlushMs?: number;
}
