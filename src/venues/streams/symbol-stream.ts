/**
 * The loop both public streams share (tickers in market-stream.ts, trades in trade-stream.ts): a symbol set,
 * sessions one after another under a StreamRunner (backoff, health), a resubscribe when the symbol set changes
 * (a restart, never a failure), and each session on a fresh ccxt.pro instance, closed at its end. What a session
 * watches and hands over is its payload's.
 */
import type { Exchange } from 'ccxt';
import type { CcxtGateway } from '../ccxt-gateway.js';
import type { MarketKind } from '../venue-gateway.js';
import {
  type SessionContext,
  SessionRestart,
  StreamRunner,
  type StreamStatus,
  type StreamTiming,
} from './stream-runner.js';

export interface SymbolStreamOptions {
  timing: StreamTiming;
  now?: () => number;
  random?: () => number;
}

/** One session's watch: runs until it fails, the symbol set changes (`restarted`) or the stream stops. */
export interface PayloadSession<H> {
  ex: Exchange;
  ctx: SessionContext;
  /** The symbols the venue lists, Bosun's name beside the venue's; never empty. */
  wanted: ReadonlyArray<{ bosun: string; venue: string }>;
  /** Rejects with SessionRestart when the symbol set changes. */
  restarted: Promise<never>;
  handlers: H;
}

export type StreamPayload<H> = (s: PayloadSession<H>) => Promise<void>;

/** A public stream of one venue and market kind, over a symbol set. */
export class SymbolStream<H extends { onStatus(s: StreamStatus): void }> {
  readonly venue: string;
  private symbols: string[] = [];
  private handlers: H | undefined;
  private runner: StreamRunner | undefined;
  private restart: (() => void) | undefined;
  private readonly now: () => number;

  constructor(
    private readonly gw: CcxtGateway,
    readonly market: MarketKind,
    private readonly opts: SymbolStreamOptions,
    private readonly payload: StreamPayload<H>,
  ) {
    this.venue = gw.venue;
    this.now = opts.now ?? Date.now;
  }

  start(symbols: readonly string[], h: H): void {
    if (this.runner !== undefined) return;
    this.symbols = [...symbols];
    this.handlers = h;
    this.runner = new StreamRunner(
      this.opts.timing,
      (ctx) => this.session(ctx),
      (s) => this.handlers?.onStatus(s),
      this.now,
      this.opts.random,
    );
    this.runner.start();
  }

  /** A new symbol set (the scanner's shortlist): the stream resubscribes, which is not a failure. */
  setSymbols(symbols: readonly string[]): void {
    const next = [...symbols].sort();
    if (next.join(',') === [...this.symbols].sort().join(',')) return;
    this.symbols = next;
    this.restart?.();
  }

  status(): StreamStatus {
    return this.runner?.status() ?? { state: 'stopped', reason: null, at: this.now(), reconnects: 0, failures: 0 };
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    this.runner = undefined;
  }

  private async session(ctx: SessionContext): Promise<void> {
    const ex = await this.gw.createStreamExchange(this.opts.timing.keepAliveMs);
    const restarted = new Promise<never>((_resolve, reject) => {
      this.restart = () => reject(new SessionRestart());
    });
    restarted.catch(() => undefined);
    try {
      const map = this.gw.symbols();
      const wanted = this.symbols.flatMap((s) => {
        const v = map.venueSymbol(s, this.market);
        return v === undefined ? [] : [{ bosun: s, venue: v }];
      });
      const handlers = this.handlers;
      // Nothing to stream: idle (not silent) until the symbol set changes or the stream stops.
      if (wanted.length === 0 || handlers === undefined) await Promise.race([restarted, ctx.stopped]);
      else await this.payload({ ex, ctx, wanted, restarted, handlers });
    } finally {
      this.restart = undefined;
      await ex.close().catch(() => undefined);
    }
  }
}
