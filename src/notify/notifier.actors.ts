import { fromCallback } from 'xstate';
import type { Notifier } from './notifier.js';

/** The notifier actor's pump: delivery runs while the actor lives; health changes become `health.*` events. */
export function makeNotifierPump(notifier: Notifier) {
  return fromCallback(({ sendBack }) => {
    notifier.start((h) =>
      sendBack(h.value === 'OK' ? { type: 'health.ok' } : { type: 'health.degrade', reason: h.reason }),
    );
    return () => notifier.stop();
  });
}
