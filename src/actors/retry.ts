import { AppError } from '../domain/errors.js';

/**
 * The one retry helper of the order path (issue 13): settlement, resolution of unknown creates and boot reads each
 * wrote their own `for` loop with a `setTimeout` inside. Time comes in through `sleep`, so a test or the seeded
 * simulation campaign drives it (and an incarnation that crashed can be frozen: its sleeps never end).
 */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Backoff {
  /** Delay before the second try. */
  firstMs: number;
  maxMs: number;
  /** Growth per try (default 2). */
  factor?: number;
}

/** The delay before try `attempt + 1` (attempt counts from 0). */
export function backoffDelay(b: Backoff, attempt: number): number {
  return Math.min(b.firstMs * (b.factor ?? 2) ** attempt, b.maxMs);
}

/**
 * Polls `step` until it reports done, at most `attempts` times, sleeping the backoff between tries (and before the
 * first when `delayFirst`). Resolves with the last step's value and whether it finished.
 */
export async function poll<T>(
  opts: { attempts: number; backoff: Backoff; sleep: Sleep; delayFirst?: boolean },
  step: (attempt: number) => Promise<{ done: boolean; value: T }>,
): Promise<{ done: boolean; value: T | undefined }> {
  let last: T | undefined;
  for (let attempt = 0; attempt < opts.attempts; attempt++) {
    if (attempt > 0 || opts.delayFirst) {
      const ms = backoffDelay(opts.backoff, opts.delayFirst ? attempt : attempt - 1);
      // A zero backoff means back to back: no turn of the event loop between tries.
      if (ms > 0) await opts.sleep(ms);
    }
    const r = await step(attempt);
    last = r.value;
    if (r.done) return { done: true, value: last };
  }
  return { done: false, value: last };
}

/**
 * Runs `read` again after a transient error (an `AppError` with `retryable`: a 5xx, a 429, Kraken's `Invalid
 * nonce` when two private calls cross), at most `attempts` times; any other error, or the last one, is thrown.
 */
export async function retryTransient<T>(
  opts: {
    attempts: number;
    backoff: Backoff;
    sleep: Sleep;
    onRetry?: (attempt: number, delayMs: number, e: unknown) => void;
  },
  read: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      if (!(e instanceof AppError && e.retryable) || attempt >= opts.attempts) throw e;
      const delayMs = backoffDelay(opts.backoff, attempt - 1);
      opts.onRetry?.(attempt, delayMs, e);
      await opts.sleep(delayMs);
    }
  }
}
