import type { AnyActorLogic } from 'xstate';

/**
 * Lets a spawned child start from a persisted snapshot: `spawnChild` has no `snapshot` option, so the
 * supervisor passes `{ $resume: snapshot }` as input and this wrapper restores it (reference §2.6).
 * Any other input goes to the logic unchanged.
 */
export function resumable<T extends AnyActorLogic>(logic: T): T {
  const wrapped = Object.create(logic) as T;
  (wrapped as { getInitialSnapshot: unknown }).getInitialSnapshot = (scope: unknown, input: unknown) => {
    const resume = (input as { $resume?: unknown } | undefined)?.$resume;
    if (resume !== undefined && typeof logic.restoreSnapshot === 'function') {
      return logic.restoreSnapshot(resume as never, scope as never);
    }
    return logic.getInitialSnapshot(scope as never, input as never);
  };
  return wrapped;
}
