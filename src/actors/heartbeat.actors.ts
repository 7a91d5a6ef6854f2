import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fromCallback } from 'xstate';
import type { Metrics } from '../metrics/metrics.js';

/**
 * The heartbeat's ticker: every `intervalMs` it stamps `metrics_heartbeat` with wall-clock seconds and reports
 * the event-loop delay p99 of the last window. Because it runs on the same loop as everything else, a stuck
 * runtime stops stamping and Prometheus sees the heartbeat go stale.
 */
export function makeHeartbeatTicker(metrics: Metrics, intervalMs: number, wallClock: () => number = Date.now) {
  return fromCallback(({ sendBack }) => {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const beat = () => {
      const p99 = Number.isFinite(h.percentile(99)) ? h.percentile(99) / 1e6 : 0;
      h.reset();
      metrics.heartbeat.set(Math.floor(wallClock() / 1000));
      metrics.eventLoopDelay.set(p99);
      sendBack({ type: 'hb.tick', loopDelayP99Ms: p99 });
    };
    beat();
    const t = setInterval(beat, intervalMs);
    t.unref();
    return () => {
      clearInterval(t);
      h.disable();
    };
  });
}
