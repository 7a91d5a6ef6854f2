/**
 * The life of one stream: sessions one after another, each on a fresh ccxt.pro instance, with exponential
 * backoff and jitter between failed ones (a reconnect storm backs off instead of hammering the venue; Binance
 * limits new connections to 300 per 5 minutes per IP). A session that stayed live for `resetAfterMs` resets the
 * backoff. Status is published on every change: `connecting` → `live` → `down` (with the reason) → … .
 */

export type StreamState = 'connecting' | 'live' | 'down' | 'stopped';

export interface StreamStatus {
  state: StreamState;
  reason: string | null;
  /** When the state last changed (epoch ms). */
  at: number;
  /** Sessions that went live after the first one (reconnects that worked). */
  reconnects: number;
  /** Sessions that failed before or after going live. */
  failures: number;
}

export interface StreamTiming {
  /** No message (data, heartbeat) for this long and the session is declared silent and torn down. */
  silenceMs: number;
  /** ccxt's keepalive ping period; two unanswered pings close the connection. */
  keepAliveMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  /** A session live this long resets the backoff. */
  resetAfterMs: number;
}

export const STREAM_TIMING_DEFAULTS: StreamTiming = {
  silenceMs: 10_000,
  keepAliveMs: 5_000,
  backoffMinMs: 250,
  backoffMaxMs: 30_000,
  resetAfterMs: 30_000,
};

/** Thrown inside a session to end it without counting a failure (a new symbol set). */
export class SessionRestart extends Error {}

/** What a session gets: mark itself live, and whether it should keep going. */
export interface SessionContext {
  live(): void;
  alive(): boolean;
  /** Resolves when stop() was called (sessions race their work against it). */
  stopped: Promise<void>;
}

export class StreamRunner {
  private current: StreamStatus;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopSignal!: Promise<void>;
  private fireStop!: () => void;
  private everLive = false;
  private liveAt: number | undefined;

  constructor(
    private readonly timing: StreamTiming,
    private readonly session: (ctx: SessionContext) => Promise<void>,
    private readonly onStatus: (s: StreamStatus) => void,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.current = { state: 'stopped', reason: null, at: now(), reconnects: 0, failures: 0 };
  }

  status(): StreamStatus {
    return { ...this.current };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopSignal = new Promise((resolve) => {
      this.fireStop = resolve;
    });
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.fireStop();
    this.wake?.();
    await this.loop;
    this.set('stopped', null);
  }

  private set(state: StreamState, reason: string | null): void {
    if (this.current.state === state && this.current.reason === reason) return;
    this.current = { ...this.current, state, reason, at: this.now() };
    this.onStatus(this.status());
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (this.running) {
      this.set('connecting', this.current.state === 'down' ? this.current.reason : null);
      this.liveAt = undefined;
      const ctx: SessionContext = {
        live: () => {
          if (this.liveAt !== undefined) return;
          this.liveAt = this.now();
          if (this.everLive) this.current = { ...this.current, reconnects: this.current.reconnects + 1 };
          this.everLive = true;
          this.set('live', null);
        },
        alive: () => this.running,
        stopped: this.stopSignal,
      };
      let failure: string | undefined;
      try {
        await this.session(ctx);
      } catch (e) {
        if (!(e instanceof SessionRestart)) failure = describe(e);
      }
      if (!this.running) return;
      if (failure === undefined) continue;
      if (this.liveAt !== undefined && this.now() - this.liveAt >= this.timing.resetAfterMs) attempt = 0;
      this.current = { ...this.current, failures: this.current.failures + 1 };
      this.set('down', failure);
      await this.pause(this.backoff(attempt++));
    }
  }

  /** Full jitter over an exponential ceiling: min·2^n capped at max, then a random point in its upper half. */
  backoff(attempt: number): number {
    const ceiling = Math.min(this.timing.backoffMaxMs, this.timing.backoffMinMs * 2 ** Math.min(attempt, 20));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`.slice(0, 200);
  return String(e).slice(0, 200);
}

/** A promise that rejects with `reason` once `idleFor()` exceeds `ms` (checked every ms/4); `cancel` clears it. */
export function silenceWatch(ms: number, idleFor: () => number): { tripped: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const tripped = new Promise<never>((_resolve, reject) => {
    timer = setInterval(
      () => {
        if (idleFor() > ms) reject(new Error(`silent: no message for ${ms} ms`));
      },
      Math.max(10, Math.floor(ms / 4)),
    );
  });
  tripped.catch(() => undefined);
  return {
    tripped,
    cancel: () => clearInterval(timer),
  };
}
