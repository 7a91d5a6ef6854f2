import { z } from 'zod';
import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';
import type { KvStore } from '../store/index.js';

/**
 * The runbook's "5-minute half-size window" (Staged Go-Live, hour 12–36): for the first `windowMs` after event
 * breakouts go live — a start with EVENT_BREAKOUT_DRY_RUN=false, or a runtime flip to live (`setDryRun(false)`) —
 * breakout orders are half size. When they went live is in LMDB (`kv`, `breakout:live_since`), written and
 * committed before the first live order can be sized from it, so a restart inside the window resumes its
 * remainder and a restart after it trades full size: a restart never lengthens nor skips the window.
 *
 * Fail closed: a stored record that cannot be read (a shape the schema refuses, a read that throws) counts as
 * "within the window": half size for a whole window from now, and the record is rewritten.
 * Going back to dry-run clears the record: the next go-live opens a new window.
 */
export const LIVE_WINDOW_KEY = 'breakout:live_since';
export const HALF_SIZE_WINDOW_MS = 5 * 60_000;

const Stored = z.object({ liveSince: z.number().finite().nonnegative() }).strict();

export interface BreakoutLiveWindow {
  /** Size multiplier for a breakout order now: 0.5 inside the window, 1 after it (0 while dry-run: none sent). */
  scale(): number;
  /** Whether breakouts are live (EVENT_BREAKOUT_DRY_RUN=false). */
  live(): boolean;
  /** When the window ends (epoch ms), null while dry-run. */
  endsAt(): number | null;
  /** Flips dry-run; going live opens the window (durable before it resolves), going dry clears it. */
  setDryRun(dryRun: boolean): Promise<void>;
}

export function createBreakoutLiveWindow(d: {
  kv: KvStore;
  dryRun: boolean;
  now: () => number;
  log: Logger;
  windowMs?: number;
}): BreakoutLiveWindow & { ready: Promise<void> } {
  const windowMs = d.windowMs ?? HALF_SIZE_WINDOW_MS;
  let liveSince: number | null = null;

  /** Opens the window now; in memory at once (inside the window is half size anyway), durable on resolve. */
  function open(at: number): Promise<void> {
    liveSince = at;
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
  if (d.dryRun) {
    if (read() !== undefined) ready = d.kv.delete(LIVE_WINDOW_KEY);
  } else {
    const stored = read();
    if (stored === 'unreadable') {
      d.log.error(
        { key: LIVE_WINDOW_KEY },
        '[BREAKOUT] half-size window record unreadable: half size for a full window',
      );
      ready = open(d.now());
    } else if (stored === undefined) ready = open(d.now());
    else liveSince = Math.min(stored, d.now()); // a record from the future (clock step) never lengthens the window
  }

  return {
    ready: ready.then(() => undefined),
    live: () => liveSince !== null,
    endsAt: () => (liveSince === null ? null : liveSince + windowMs),
    scale() {
      if (liveSince === null) return 0;
      return d.now() < liveSince + windowMs ? 0.5 : 1;
    },
    async setDryRun(dryRun) {
      try {
        if (dryRun) {
          await d.kv.delete(LIVE_WINDOW_KEY);
          liveSince = null;
        } else if (liveSince === null) {
          d.log.info('[BREAKOUT] live: half size for the first 5 minutes');
          await open(d.now());
        }
      } catch (e) {
        d.log.error({ err: errorMessage(e) }, '[BREAKOUT] could not record the dry-run flip');
        throw e;
      }
    },
  };
}
