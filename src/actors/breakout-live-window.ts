import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import type { KvStore } from '../store/index.js';

/**
 * The runbook's "5-minute half-size window" (Staged Go-Live, hour 12–36): for the first `windowMs` after event
 * breakouts go live, breakout orders are half size. Breakouts are live when EVENT_BREAKOUT_ENABLED=true and
 * EVENT_BREAKOUT_DRY_RUN=false; flags change by editing `.env` and restarting (runbook "Flip feature flags"), so
 * "going live" is a start that is live after one that was not (or the first start ever). When they went live is
 * in LMDB (`kv`, `breakout:live_since`); a start that is live keeps the stored time, so a restart inside the window
 * resumes its remainder and one after it trades full size: a restart never lengthens nor skips the window. A start
 * that is not live clears the record, so the next live start opens a new window. Both flags count: a record left
 * by DRY_RUN=false with breakouts disabled would otherwise let a later EVENT_BREAKOUT_ENABLED=true skip the window.
 *
 * Fail closed: a stored record that cannot be read (a shape the schema refuses, a read that throws) counts as
 * "within the window": half size for a whole window from now, and the record is rewritten. The time is held in
 * memory at once, so an order sized before the write committed is half size too; a crash before the commit opens
 * a fresh window at the next start (longer, never shorter).
 */
export const LIVE_WINDOW_KEY = 'breakout:live_since';
export const HALF_SIZE_WINDOW_MS = 5 * 60_000;

const Stored = z.object({ liveSince: z.number().finite().nonnegative() }).strict();

export interface BreakoutLiveWindow {
  /** Size multiplier for a breakout order now: 0.5 inside the window, 1 after it (0 while not live: none sent). */
  scale(): number;
  /** Whether breakouts are live (EVENT_BREAKOUT_ENABLED=true and EVENT_BREAKOUT_DRY_RUN=false at this start). */
  live(): boolean;
  /** When the window ends (epoch ms), null while not live. */
  endsAt(): number | null;
}

export function createBreakoutLiveWindow(d: {
  kv: KvStore;
  /** Breakouts live at this start: EVENT_BREAKOUT_ENABLED && !EVENT_BREAKOUT_DRY_RUN. */
  live: boolean;
  now: () => number;
  log: Logger;
  windowMs?: number;
}): BreakoutLiveWindow & { ready: Promise<void> } {
  const windowMs = d.windowMs ?? HALF_SIZE_WINDOW_MS;
  let liveSince: number | null = null;

  /** Opens the window now; in memory at once (inside the window is half size anyway), durable on resolve. */
  function open(at: number): Promise<void> {
    liveSince = at;
    d.log.info({ endsAt: at + windowMs }, '[BREAKOUT] live: half-size window for the first 5 minutes');
    return d.kv.put(LIVE_WINDOW_KEY, { liveSince: at });
  }

  /** The stored go-live time, or 'unreadable'. */
  function read(): number | undefined | 'unreadable' {
    try {
      const raw = d.kv.get<unknown>(LIVE_WINDOW_KEY);
      if (raw === undefined) return undefined;
      const p = Stored.safeParse(raw);
      return p.success ? p.data.liveSince : 'unreadable';
    } catch {
      return 'unreadable';
    }
  }

  let ready: Promise<unknown> = Promise.resolve();
  const stored = read();
  if (!d.live) {
    if (stored !== undefined) ready = d.kv.delete(LIVE_WINDOW_KEY);
  } else if (stored === 'unreadable') {
    d.log.error({ key: LIVE_WINDOW_KEY }, '[BREAKOUT] half-size window record unreadable: half size for a full window');
    ready = open(d.now());
  } else if (stored === undefined) ready = open(d.now());
  else liveSince = Math.min(stored, d.now()); // a record from the future (clock step) never lengthens the window

  return {
    ready: ready.then(() => undefined),
    live: () => liveSince !== null,
    endsAt: () => (liveSince === null ? null : liveSince + windowMs),
    scale() {
      if (liveSince === null) return 0;
      return d.now() < liveSince + windowMs ? 0.5 : 1;
    },
  };
}
