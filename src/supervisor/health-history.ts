import type { Health } from '../machines/health.js';

/** One health edge of an actor as the inspector's strip shows it. */
export interface HealthEntry {
  ts: number;
  id: string;
  from: Health | null;
  to: Health;
  reason: string;
}

export interface HealthHistoryOptions {
  now: () => number;
  /** Default one hour: the inspector's strip. */
  windowMs?: number;
  /** Per actor; a flapping actor keeps its newest edges. Default 120. */
  maxPerActor?: number;
}

/**
 * Health edges per actor over the last hour, kept in memory from boot whether or not an inspector watches (the
 * hooks call `record` only when an actor's health or reason changes, so the cost is per edge, never per tick).
 * The entry just before the window is kept so the strip knows the state the hour started in.
 */
export function createHealthHistory(opts: HealthHistoryOptions) {
  const windowMs = opts.windowMs ?? 3_600_000;
  const max = opts.maxPerActor ?? 120;
  const byActor = new Map<string, HealthEntry[]>();

  function prune(list: HealthEntry[], at: number): void {
    const start = at - windowMs;
    let drop = 0;
    while (drop + 1 < list.length && (list[drop + 1] as HealthEntry).ts <= start) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length > max) list.splice(0, list.length - max);
  }

  return {
    record(id: string, to: Health, reason: string): void {
      const at = opts.now();
      let list = byActor.get(id);
      if (!list) {
        list = [];
        byActor.set(id, list);
      }
      const last = list[list.length - 1];
      if (last && last.to === to && last.reason === reason) return;
      list.push({ ts: at, id, from: last ? last.to : null, to, reason });
      prune(list, at);
    },
    /** Oldest first; empty for an actor never seen. */
    list(id: string): HealthEntry[] {
      const list = byActor.get(id);
      if (!list) return [];
      prune(list, opts.now());
      return list.slice();
    },
    forget(id: string): void {
      byActor.delete(id);
    },
  };
}

export type HealthHistory = ReturnType<typeof createHealthHistory>;
