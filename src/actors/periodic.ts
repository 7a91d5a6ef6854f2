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
  const t = setInterval(() => void run(), intervalMs);
  return () => {
    stopped = true;
    clearInterval(t);
  };
}
