import { buildVenueSubtree, type VenueActorsDeps } from '../../src/actors/venue.actors.js';
import { createLogger } from '../../src/logging/logger.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { createRuntime, type Runtime, type RuntimeDeps } from '../../src/supervisor/runtime.js';

/**
 * The runtime options the venue-actor rigs share (tests and the feed bench): trading on, a 500 ms loop-delay
 * limit, five restarts a minute, one second to shut down; the heartbeat is long enough never to fire in a test.
 */
export const VENUE_RIG_RUNTIME_OPTIONS = {
  tradingEnabled: true,
  heartbeatMs: 60_000,
  maxLoopDelayMs: 500,
  restartIntensity: 5,
  restartPeriodMs: 60_000,
  shutdownTimeoutMs: 1_000,
} as const;

/** What a rig gives its one venue subtree (the runtime supplies the hooks and the actor lookup). */
export type VenueRigSubtree = Omit<VenueActorsDeps, 'hooks' | 'lookup' | 'metrics' | 'log'>;

/**
 * A started runtime around one venue's subtree, as the venue-actor tests build it: their options, a silent log,
 * and a fatal that throws (an escalation fails the test). The caller shuts it down.
 */
export async function startVenueRig(o: {
  metrics: Metrics;
  kv: RuntimeDeps['kv'];
  venue: VenueRigSubtree;
  statusExtras?: RuntimeDeps['statusExtras'];
}): Promise<Runtime> {
  const log = createLogger({ level: 'silent', stdout: false }).log;
  let runtime: Runtime | undefined;
  runtime = createRuntime({
    options: VENUE_RIG_RUNTIME_OPTIONS,
    log,
    metrics: o.metrics,
    kv: o.kv,
    onFatal: (r, e) => {
      throw new Error(`fatal ${r}: ${String(e)}`);
    },
    ...(o.statusExtras ? { statusExtras: o.statusExtras } : {}),
    subtrees: (hooks) => [
      buildVenueSubtree({
        ...o.venue,
        metrics: o.metrics,
        log,
        hooks,
        lookup: (id) => runtime?.root().system.get(id),
      }),
    ],
  });
  await runtime.start();
  return runtime;
}
