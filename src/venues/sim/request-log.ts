/**
 * Request counters per venue and path (what `GET /__sim/requests` returns), so tests can count exactly what a
 * client sent — e.g. that a bad key produced one request and no retry storm. Control-API calls are not counted.
 */
import type { Venue } from './faults.js';

export interface RequestRecord {
  seq: number;
  /** Wall-clock receive time (ms). */
  at: number;
  venue: Venue;
  method: string;
  path: string;
  status: number | 'hang' | 'disconnect';
  /** Id of the fault that shaped the answer, if any. */
  fault?: string;
}

export interface RequestStats {
  total: number;
  byVenue: Record<Venue, number>;
  /** `"GET /api/v3/account"` → count. */
  byPath: Record<string, number>;
  /** `"binance 429"` → count. */
  byStatus: Record<string, number>;
  /** The most recent requests, oldest first (up to `capacity`). */
  recent: RequestRecord[];
}

export class RequestLog {
  private seq = 0;
  private byVenue: Record<Venue, number> = { binance: 0, kraken: 0 };
  private byPath = new Map<string, number>();
  private byStatus = new Map<string, number>();
  private recent: RequestRecord[] = [];

  constructor(private readonly capacity = 2000) {}

  /** Counts a request on arrival and returns its record, to be completed with the outcome. */
  arrive(venue: Venue, method: string, path: string): RequestRecord {
    const r: RequestRecord = { seq: ++this.seq, at: Date.now(), venue, method, path, status: 'hang' };
    this.byVenue[venue]++;
    const key = `${method} ${path}`;
    this.byPath.set(key, (this.byPath.get(key) ?? 0) + 1);
    this.recent.push(r);
    if (this.recent.length > this.capacity) this.recent.splice(0, this.recent.length - this.capacity);
    return r;
  }

  /** Records how the request ended. */
  done(r: RequestRecord, status: RequestRecord['status'], fault?: string): void {
    r.status = status;
    if (fault !== undefined) r.fault = fault;
    const key = `${r.venue} ${status}`;
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
  }

  stats(): RequestStats {
    return {
      total: this.seq,
      byVenue: { ...this.byVenue },
      byPath: Object.fromEntries(this.byPath),
      byStatus: Object.fromEntries(this.byStatus),
      recent: this.recent.map((r) => ({ ...r })),
    };
  }

  /** Count for one path (any method unless given). */
  count(path: string, method?: string): number {
    let n = 0;
    for (const [k, v] of this.byPath) {
      const [m, p] = k.split(' ');
      if (p === path && (method === undefined || m === method)) n += v;
    }
    return n;
  }

  reset(): void {
    this.seq = 0;
    this.byVenue = { binance: 0, kraken: 0 };
    this.byPath.clear();
    this.byStatus.clear();
    this.recent = [];
  }
}
