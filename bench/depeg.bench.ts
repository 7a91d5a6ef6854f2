import type { AnyActorRef } from 'xstate';
import type { DepegGuardContext } from '../src/machines/depeg-guard.machine.js';
import { startSimulator } from '../src/venues/sim/index.js';
import { startPipeline } from '../test/trading/guards-pipeline.js';

/**
 * Depeg detection latency (issue 5): from the simulator's price move (a USDT depeg of 2 %, at once) to the depeg
 * guard seeing the breach (`confirming`) and to HALTED (`depeg_trigger`), in guard observations (ticks) and
 * milliseconds, through the real pipeline (ccxt against the simulator, FEED_POLL_MS=200, DEPEG_CONFIRM_SEC=1,
 * so HALTED ≥ 1000 ms by design). Each run re-arms through the port before the next.
 */
const RUNS = 5;
const POLL_MS = 200;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

export async function run(): Promise<Record<string, unknown>> {
  const sim = await startSimulator({ host: '127.0.0.1', port: 0, seed: 41 });
  const p = await startPipeline(sim, {
    DEPEG_THRESHOLD_PCT: '0.5',
    DEPEG_CONFIRM_SEC: '1',
    DEPEG_COOLDOWN_SEC: '0',
    DEPEG_EXIT_RISK: 'false',
    FUNDING_GUARD_ENABLED: 'false',
    FEED_POLL_MS: String(POLL_MS),
  });
  const id = p.trading.guards.depegId;
  const ref = () => p.runtime.root().system.get(id) as AnyActorRef;
  const ctx = () => ref().getSnapshot().context as DepegGuardContext;
  const waitFor = (what: string, cond: () => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      if (cond()) return resolve();
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(new Error(`timed out: ${what}`));
      }, timeoutMs);
      const sub = ref().subscribe(() => {
        if (!cond()) return;
        clearTimeout(timer);
        sub.unsubscribe();
        resolve();
      });
    });
  const runs: Array<{ breach_ticks: number; breach_ms: number; halted_ticks: number; halted_ms: number }> = [];
  try {
    await waitFor('a first observation', () => ctx().lastObsAt !== null);
    for (let i = 0; i < RUNS; i++) {
      let ticks = 0;
      let lastObs = ctx().lastObsAt;
      let breach: { ticks: number; ms: number } | undefined;
      const t0 = performance.now();
      const sub = ref().subscribe((s) => {
        const c = s.context as DepegGuardContext;
        if (c.lastObsAt !== lastObs) {
          lastObs = c.lastObsAt;
          ticks += 1;
        }
        if (!breach && c.phase !== 'armed') breach = { ticks, ms: performance.now() - t0 };
      });
      sim.scenario({ kind: 'depeg', pct: 2 });
      await waitFor('HALTED', () => ctx().phase === 'tripped');
      const haltedMs = performance.now() - t0;
      sub.unsubscribe();
      runs.push({
        breach_ticks: breach?.ticks ?? ticks,
        breach_ms: Math.round(breach?.ms ?? haltedMs),
        halted_ticks: ticks,
        halted_ms: Math.round(haltedMs),
      });
      sim.scenario({ kind: 'depeg', pct: 0 });
      await waitFor('parity held', () => ctx().heldSince !== null);
      await p.trading.guardsPort.rearmDepeg('bench');
      await waitFor('armed', () => ctx().phase === 'armed');
    }
  } finally {
    await p.close();
    await sim.close();
  }
  const ms = runs.map((r) => r.halted_ms);
  const bms = runs.map((r) => r.breach_ms);
  return {
    runs: RUNS,
    feed_poll_ms: POLL_MS,
    confirm_ms: 1_000,
    breach_ms_p50: pct(bms, 50),
    breach_ms_max: Math.max(...bms),
    halted_ms_p50: pct(ms, 50),
    halted_ms_max: Math.max(...ms),
    halted_ticks_max: Math.max(...runs.map((r) => r.halted_ticks)),
    per_run: runs,
  };
}
