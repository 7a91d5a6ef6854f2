import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../logging/logger.js';

/**
 * The last state each money-guarding actor published (breakers, depeg and funding guards, the stop validator),
 * and the spawn input that hands it back (DESIGN §4: a guard restarts from its last persisted state).
 *
 * Read at every spawn, not once at boot: an operator restart (`sup.restartChild`) is a fresh start from the spec's
 * input, and must come back with the trip it had. Kept in memory as well as in LMDB, because an async put is not
 * readable until it commits, so a restart in the same turn as a trip would otherwise start from the state before
 * it (fail closed).
 */
export function createGuardStates(opts: {
  kv: { get<T = unknown>(key: string): T | undefined; put(key: string, value: unknown): Promise<void> };
  /** Key prefix in kv (`breaker:`, `guard:`): existing stores keep their keys. */
  prefix: string;
  log: Logger;
}) {
  const latest = new Map<string, unknown>();
  const key = (id: string) => `${opts.prefix}${id}`;
  const read = <T = unknown>(id: string): T | undefined => (latest.get(id) as T | undefined) ?? opts.kv.get<T>(key(id));
  return {
    /** Records a guard's state: readable at once, durable once LMDB commits (a failed put is logged). */
    publish(id: string, state: unknown): void {
      latest.set(id, state);
      void opts.kv
        .put(key(id), state)
        .catch((e: unknown) => opts.log.error({ id, err: errorMessage(e) }, 'guard state persist failed'));
    },
    read,
    /** `base` plus a `persisted` field that is read at each spawn. */
    spawnInput<T extends object>(id: string, base: T): T & { persisted: unknown } {
      return Object.defineProperty({ ...base }, 'persisted', {
        enumerable: true,
        get: () => read(id),
      }) as T & { persisted: unknown };
    },
  };
}

export type GuardStates = ReturnType<typeof createGuardStates>;
