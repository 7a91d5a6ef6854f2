import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

/** One garbage-collection pause, on the `performance.now()` clock. */
export interface GcPause {
  start: number;
  ms: number;
  kind: 'minor' | 'major' | 'incremental' | 'weak';
}

const KINDS: Record<number, GcPause['kind']> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};

/**
 * Records the main thread's GC pauses while a benchmark runs, so a latency tail can be read against them. Node
 * delivers the entries after the fact, from a timer: `stop()` waits for the last ones.
 */
export function recordGcPauses(): { stop(): Promise<GcPause[]> } {
  const pauses: GcPause[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[])
      pauses.push({ start: e.startTime, ms: e.duration, kind: KINDS[e.detail?.kind ?? -1] ?? 'major' });
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 50));
      observer.disconnect();
      return pauses;
    },
  };
}

/** Pauses per kind: how many, their sum and the longest (ms). */
export function summarisePauses(pauses: readonly GcPause[]) {
  const out: Record<string, { count: number; total_ms: number; max_ms: number }> = {};
  for (const p of pauses) {
    const s = out[p.kind] ?? { count: 0, total_ms: 0, max_ms: 0 };
    out[p.kind] = s;
    s.count += 1;
    s.total_ms += p.ms;
    s.max_ms = Math.max(s.max_ms, p.ms);
  }
  for (const s of Object.values(out)) {
    s.total_ms = Number(s.total_ms.toFixed(2));
    s.max_ms = Number(s.max_ms.toFixed(2));
  }
  return out;
}

/** Whether a GC pause began inside [start, start + ms]. */
export function overlapsPause(pauses: readonly GcPause[], start: number, ms: number): boolean {
  return pauses.some((p) => p.start >= start && p.start <= start + ms);
}

/**
 * Bytes allocated by a stretch of work, read as heap growth between `start` and `stop` around pieces of work
 * (event-loop turns) without a collection inside them: a piece the heap shrank over had a scavenge in it and is
 * left out, and the figure is the mean over the clean pieces (per unit of work they did, e.g. ticks).
 */
export function heapGrowthMeter() {
  let at = 0;
  let bytes = 0;
  let units = 0;
  let pieces = 0;
  let dirty = 0;
  return {
    start(): void {
      at = process.memoryUsage().heapUsed;
    },
    stop(unitsDone: number): void {
      const now = process.memoryUsage().heapUsed;
      if (now >= at) {
        bytes += now - at;
        units += unitsDone;
        pieces += 1;
      } else dirty += 1;
    },
    /** Bytes per unit over the clean pieces (NaN if none), and how many pieces were clean / had a GC. */
    result: () => ({ bytesPerUnit: units > 0 ? bytes / units : Number.NaN, cleanPieces: pieces, gcPieces: dirty }),
  };
}

/** Young-generation (scavenge) pause time as a share of wall time, in percent. */
export function youngGcPctOfWall(pauses: readonly GcPause[], wallMs: number): number {
  const ms = pauses.filter((p) => p.kind === 'minor').reduce((a, p) => a + p.ms, 0);
  return Number(((ms / wallMs) * 100).toFixed(2));
}
