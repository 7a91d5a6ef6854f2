import process from 'node:process';

/** How long an exit waits for the store's in-flight writes before it abandons them (ms). */
export const EXIT_STORE_CLOSE_MS = 2_000;

/**
 * Exits the process once the store has no write in flight. lmdb-js runs a `db.transaction` callback (the journal's
 * write path) on the main thread while its writer thread holds the transaction open, and `process.exit` with one
 * pending joins that writer thread forever: a failed start or a fatal crash hung instead of exiting (seen at first
 * boot with a bad Kraken key; reproduced in `safe-exit.test.ts`). Closing the store first lets the pending
 * callbacks run. A store that has not closed within `timeoutMs` is abandoned with SIGKILL, which recovery is built
 * for: a process that must exit never stays up.
 */
export async function exitAfterStoreClose(
  store: { close(): Promise<void> } | undefined,
  code: number,
  opts: { beforeExit?: () => void; timeoutMs?: number } = {},
): Promise<never> {
  let closed = store === undefined;
  if (store) {
    let timer: NodeJS.Timeout | undefined;
    closed = await Promise.race([
      store.close().then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), opts.timeoutMs ?? EXIT_STORE_CLOSE_MS);
      }),
    ]);
    clearTimeout(timer);
  }
  opts.beforeExit?.();
  if (!closed) process.kill(process.pid, 'SIGKILL');
  process.exit(code);
}
