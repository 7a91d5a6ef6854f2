import { nextPhaseDelay } from '../venues/poll-schedule.js';

/**
 * Runs an async task now and then every `intervalMs`, never two at once: when the venue is slow the period
 * stretches instead of a backlog building (latest wins). Failures go to `onError` as a message, never out of
 * the timer, where they would escape XState as an uncaughtException (reference §2.3). Returns the stop function
 * a callback actor hands back; after it, no callback fires.
 */
export function everyInterval(
  intervalMs: number,
  task: (alive: () => boolean) => Promise<void>,
  onError: (message: string) => void,
  afterEach?: () => void,
  /**
   * After the first run (now), run at `phaseMs` past each multiple of `intervalMs` on `now`'s clock instead of
   * `intervalMs` after the start (src/venues/poll-schedule.ts: periodic venue jobs must not meet on one second).
   */
  phase?: { phaseMs: number; now: () => number },
): () => void {
  let stopped = false;
  let running = false;
  const alive = () => !stopped;
  const run = async () => {
    if (running || stopped) return;
    running = true;
    try {
      await task(alive);
    } catch (e) {
      if (!stopped) onError(e instanceof Error ? e.message : String(e));
    } finally {
      running = false;
      if (!stopped) afterEach?.();
    }
  };
  void run();
  let t: NodeJS.Timeout;
  if (phase === undefined) t = setInterval(() => void run(), intervalMs);
  else
    t = setTimeout(
      () => {
        if (stopped) return;
        void run();
        t = setInterval(() => void run(), intervalMs);
      },
      nextPhaseDelay(phase.now(), intervalMs, phase.phaseMs),
    );
  return () => {
    stopped = true;
    clearTimeout(t);
    clearInterval(t);
  };
}
