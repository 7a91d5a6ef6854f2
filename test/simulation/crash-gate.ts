import type { CreateOrderRequest, VenueGateway } from '../../src/venues/venue-gateway.js';

/**
 * One incarnation's view of a venue gateway, with the process crash in it (in-process kill -9): once `crash()`
 * is called no new call is forwarded and no answer is delivered back (the caller's promise stays pending forever),
 * while a request already on the wire may still land at the venue, as with a real kill -9.
 *
 * The schedule also steers interleavings through it, without timing: `armCrash(n, forward)` crashes the process
 * at the n-th venue call from now (that call forwarded or not), and `hold('createOrder')` keeps the next create
 * on the wire, unanswered, until `release()`.
 */
export type GatedCall = 'createOrder' | 'cancelOrder' | 'cancelAllOrders' | 'other';

export interface GateHooks {
  /** A create handed to the venue by this incarnation (before it is forwarded): the I2/I3 observation point. */
  onCreate(req: CreateOrderRequest): void;
  /** The gate crashed the process by itself (an armed crash fired). */
  onCrash(): void;
  /**
   * A venue call answered, before its caller sees the answer (the churn of I9 moves the venue's balances here,
   * between a reconciliation's two reads).
   */
  onAnswer?(name: string, args: readonly unknown[]): void;
}

const NEVER = new Promise<never>(() => {});

export interface CrashGate {
  readonly gateway: VenueGateway;
  crash(): void;
  readonly crashed: boolean;
  /** Crashes the process on the n-th async venue call from now (1 = the next one); `forward`: that call lands. */
  armCrash(n: number, forward: boolean): void;
  disarm(): void;
  /** Holds the next create on the wire (forwarded to the venue only at `release`, answered after). */
  hold(): void;
  /** Holds the next venue call made while `when()` is true (e.g. a boot reconciliation read), until `release`. */
  holdWhen(when: () => boolean): void;
  /** Resolves once a call is held (never, if none is). */
  whenHeld(): Promise<void>;
  /** Releases whatever is held (and cancels a hold not yet used). */
  release(): void;
  /** A hold is armed or a call is held. */
  holding(): boolean;
  /** Venue calls forwarded and not yet answered. */
  pending(): number;
  /** Resolves when no forwarded call is pending (immediately if none). */
  drained(): Promise<void>;
}

export function createCrashGate(inner: VenueGateway, hooks: GateHooks): CrashGate {
  let crashed = false;
  let armed: { n: number; forward: boolean } | undefined;
  let holdNext: ((name: string) => boolean) | undefined;
  const held: Array<() => void> = [];
  let onHeld: (() => void) | undefined;
  let pending = 0;
  let waiters: Array<() => void> = [];

  const settled = () => {
    pending -= 1;
    if (pending === 0) {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  };

  const crash = () => {
    if (crashed) return;
    crashed = true;
    armed = undefined;
    // A held create is on the wire: it lands at the venue, its answer goes nowhere.
    for (const go of held.splice(0)) go();
    hooks.onCrash();
  };

  function forward(call: () => unknown): Promise<unknown> {
    pending += 1;
    let p: Promise<unknown>;
    try {
      p = Promise.resolve(call());
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.then(
      (v) => {
        settled();
        return crashed ? NEVER : v;
      },
      (e: unknown) => {
        settled();
        return crashed ? NEVER : Promise.reject(e);
      },
    );
  }

  function gated(name: string, call: () => unknown): Promise<unknown> {
    if (crashed) return NEVER;
    if (armed !== undefined) {
      armed.n -= 1;
      if (armed.n <= 0) {
        const { forward: lands } = armed;
        if (lands) void forward(call).catch(() => {});
        crash();
        return NEVER;
      }
    }
    if (holdNext?.(name)) {
      holdNext = undefined;
      return new Promise((resolve, reject) => {
        held.push(() => {
          forward(call).then(resolve, reject);
        });
        onHeld?.();
      });
    }
    return forward(call);
  }

  const gateway = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const fn = v as (...args: unknown[]) => unknown;
      // Synchronous reads of what loadMarkets cached are local: no venue call.
      if (prop === 'markets' || prop === 'symbols' || prop === 'kind' || prop === 'pressure') return fn.bind(target);
      return (...args: unknown[]) => {
        const name = String(prop);
        if (name === 'createOrder' && !crashed) hooks.onCreate(args[0] as CreateOrderRequest);
        if (!hooks.onAnswer) return gated(name, () => fn.apply(target, args));
        const answer = hooks.onAnswer;
        return gated(name, () =>
          Promise.resolve(fn.apply(target, args)).then((v) => {
            answer(name, args);
            return v;
          }),
        );
      };
    },
  });

  return {
    gateway,
    crash,
    get crashed() {
      return crashed;
    },
    armCrash(n, fwd) {
      armed = { n: Math.max(1, n), forward: fwd };
    },
    disarm() {
      armed = undefined;
    },
    hold() {
      holdNext = (name) => name === 'createOrder';
    },
    holdWhen(when) {
      holdNext = () => when();
    },
    whenHeld: () =>
      held.length > 0
        ? Promise.resolve()
        : new Promise<void>((r) => {
            onHeld = r;
          }),
    release() {
      holdNext = undefined;
      for (const go of held.splice(0)) go();
    },
    pending: () => pending,
    holding: () => holdNext !== undefined || held.length > 0,
    drained: () => (pending === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}
