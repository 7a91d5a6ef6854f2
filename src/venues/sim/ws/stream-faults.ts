/**
 * Stream faults: what can go wrong with a venue's WebSocket besides its REST answers. They act on live
 * connections (the request fault book acts per HTTP request), so they live apart from faults.ts:
 * - `drop`: every open connection of the venue is cut now (no close frame, as a network failure looks);
 * - `outage`: new connections are refused (HTTP 503 on the upgrade) until cleared or `durationMs` passed;
 * - `silence`: connections stay open but nothing is sent — no data, no heartbeats, no pongs (a stalled stream);
 * - `storm`: the next `count` connections are cut right after they open (a reconnect storm).
 */
import { z } from 'zod';
import type { Venue } from '../faults.js';

export const streamFaultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('drop'), venue: z.enum(['binance', 'kraken', 'all']).default('all') }).strict(),
  z
    .object({
      kind: z.enum(['outage', 'silence']),
      venue: z.enum(['binance', 'kraken', 'all']).default('all'),
      /** Ends by itself after this many ms of wall time; omitted = until cleared. */
      durationMs: z.number().int().positive().max(3_600_000).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('storm'),
      venue: z.enum(['binance', 'kraken', 'all']).default('all'),
      count: z.number().int().positive().max(1000),
    })
    .strict(),
]);

export type StreamFaultInput = z.input<typeof streamFaultSchema>;

/** The state of one venue's stream faults (wall-clock expiry: streams run on real sockets). */
export class StreamFaults {
  private readonly until = new Map<string, number>();
  private readonly storms = new Map<Venue, number>();

  constructor(private readonly wallNow: () => number = Date.now) {}

  set(kind: 'outage' | 'silence', venue: Venue, durationMs: number | undefined): void {
    this.until.set(
      `${kind}|${venue}`,
      durationMs === undefined ? Number.POSITIVE_INFINITY : this.wallNow() + durationMs,
    );
  }

  active(kind: 'outage' | 'silence', venue: Venue): boolean {
    const u = this.until.get(`${kind}|${venue}`);
    if (u === undefined) return false;
    if (this.wallNow() < u) return true;
    this.until.delete(`${kind}|${venue}`);
    return false;
  }

  storm(venue: Venue, count: number): void {
    this.storms.set(venue, (this.storms.get(venue) ?? 0) + count);
  }

  /** Whether a connection opening now must be cut (consumes one storm hit). */
  takeStormHit(venue: Venue): boolean {
    const n = this.storms.get(venue) ?? 0;
    if (n <= 0) return false;
    this.storms.set(venue, n - 1);
    return true;
  }

  clear(): void {
    this.until.clear();
    this.storms.clear();
  }

  list(): Array<{ kind: string; venue: Venue; untilMs?: number; count?: number }> {
    const out: Array<{ kind: string; venue: Venue; untilMs?: number; count?: number }> = [];
    for (const [k, u] of this.until) {
      const [kind = '', venue = 'binance'] = k.split('|');
      if (this.wallNow() < u) out.push({ kind, venue: venue as Venue, ...(Number.isFinite(u) ? { untilMs: u } : {}) });
    }
    for (const [venue, count] of this.storms) if (count > 0) out.push({ kind: 'storm', venue, count });
    return out;
  }
}
