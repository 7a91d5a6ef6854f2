import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createExternalFeed, type ExternalFeed } from '../../../src/actors/breakout.actors.js';
import { buildServer } from '../../../src/http/build-server.js';
import type { AuditPort, IdempotencyPort } from '../../../src/http/ports.js';
import { REPLAY_CACHE_MAX } from '../../../src/http/routes/events.routes.js';
import { createLogger, type Logger } from '../../../src/logging/logger.js';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import { createReplayStore, openStore, type Store } from '../../../src/store/index.js';
import { createRuntime, type Runtime } from '../../../src/supervisor/runtime.js';

/**
 * The real thing behind the HTTP layer: LMDB store (durable, fsync'd commits) in a temp directory and the real
 * supervised runtime over it, with both listeners built as `main.ts` builds them.
 */
export interface RealStack {
  dir: string;
  store: Store;
  runtime: Runtime;
  metrics: Metrics;
  ops: FastifyInstance;
  engine: FastifyInstance;
  token: string;
  /** `events.external_feed` behind `POST /events/external` (subscribe to see what was published). */
  feed: ExternalFeed;
  /** `EXTERNAL_EVENTS_SECRET` of this stack ('' = unsigned events accepted). */
  eventsSecret: string;
  fatal: string[];
  close(): Promise<void>;
}

// Compile-time proof that the store satisfies the ports exactly as src/store/ declares them.
const _ports = (s: Store): { idempotency: IdempotencyPort; audit: AuditPort } => ({
  idempotency: s.idempotency,
  audit: s.audit,
});

export async function startRealStack(
  opts: {
    ready?: boolean;
    tradingEnabled?: boolean;
    log?: Logger;
    token?: string;
    eventsSecret?: string;
    eventsMaxBodyBytes?: number;
    now?: () => number;
    /** Reopen this state directory (a restart); it is then left in place on close. */
    dir?: string;
    requireTimestamp?: boolean;
    unsigned?: 'loopback' | 'refuse';
    allowedHosts?: string[];
  } = {},
): Promise<RealStack> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'bosun-http-'));
  const metrics = createMetrics({ defaultMetrics: false });
  const log = opts.log ?? createLogger({ level: 'silent', stdout: false }).log;
  const fatal: string[] = [];
  const store = await openStore({ dir: join(dir, 'db'), logsDir: join(dir, 'logs'), metrics });
  const runtime = createRuntime({
    options: {
      tradingEnabled: opts.tradingEnabled ?? true,
      heartbeatMs: 60_000,
      maxLoopDelayMs: 200,
      restartIntensity: 3,
      restartPeriodMs: 60_000,
      shutdownTimeoutMs: 500,
    },
    log,
    metrics,
    kv: store.kv,
    onFatal: (reason) => fatal.push(reason),
  });
  await runtime.start();
  if (opts.ready !== false) runtime.markReady();
  const token = opts.token ?? 'integration-token-6f1c2a';
  const feed = createExternalFeed();
  const eventsSecret = opts.eventsSecret ?? 'integration-events-secret-9d3e';
  const events = {
    secret: eventsSecret,
    maxBodyBytes: opts.eventsMaxBodyBytes,
    now: opts.now,
    requireTimestamp: opts.requireTimestamp,
    unsigned: opts.unsigned,
    // As main.ts: the seen-set of accepted events is in LMDB, so it survives a restart.
    replay: createReplayStore(store.kv, { maxEntries: REPLAY_CACHE_MAX }),
    publish: feed.publish,
  };
  const deps = { runtime, metrics, log, opsToken: token, allowedHosts: opts.allowedHosts, ..._ports(store), events };
  const ops = await buildServer(deps, 'ops');
  const engine = await buildServer(deps, 'engine');
  return {
    dir,
    store,
    runtime,
    metrics,
    ops,
    engine,
    token,
    feed,
    eventsSecret,
    fatal,
    async close() {
      await Promise.all([ops.close(), engine.close()]);
      await runtime.shutdown();
      await store.close();
      if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Number of records in the audit chain. */
export function auditCount(store: Store): number {
  return store.audit.head()?.seq ?? 0;
}
