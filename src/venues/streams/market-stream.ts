/**
 * Public tickers by stream through ccxt.pro (one market kind of one venue): Binance `<symbol>@ticker` (the full
 * 24hrTicker, with bid/ask; ccxt's default `miniTicker` has none), USDⓈ-M `<symbol>@ticker`, Kraken v2 `ticker`.
 * Symbols are subscribed in batches (ccxt allows 200 subscriptions per Binance connection). A session ends on
 * any watch error or when nothing arrived for `silenceMs`; the runner then backs off and starts a fresh one, and
 * the consumer polls REST meanwhile (actors/feed-source.ts).
 */
import type { Exchange } from 'ccxt';
import type { CcxtGateway } from '../ccxt-gateway.js';
import { toTicker } from '../ccxt-mappers.js';
import type { MarketKind, Ticker } from '../venue-gateway.js';
import {
  type SessionContext,
  SessionRestart,
  StreamRunner,
  type StreamStatus,
  type StreamTiming,
  silenceWatch,
} from './stream-runner.js';

export interface MarketStreamHandlers {
  /** Tickers as they arrive (Bosun symbols; `receivedAt` from the stream's clock). */
  onTickers(tickers: Ticker[]): void;
  onStatus(s: StreamStatus): void;
}

/** Streamed tickers of one venue and market kind. */
export interface MarketStream {
  readonly venue: string;
  readonly market: MarketKind;
  start(symbols: readonly string[], h: MarketStreamHandlers): void;
  /** A new symbol set (the scanner's shortlist): the stream resubscribes, which is not a failure. */
  setSymbols(symbols: readonly string[]): void;
  status(): StreamStatus;
  stop(): Promise<void>;
}

export interface CcxtMarketStreamOptions {
  timing: StreamTiming;
  /** Symbols per watchTickers subscription (default 100). */
  batch?: number;
  now?: () => number;
  random?: () => number;
}

export class CcxtMarketStream implements MarketStream {
  readonly venue: string;
  private symbols: string[] = [];
  private handlers: MarketStreamHandlers | undefined;
  private runner: StreamRunner | undefined;
  private restart: (() => void) | undefined;
  private readonly now: () => number;

  constructor(
    private readonly gw: CcxtGateway,
    readonly market: MarketKind,
    private readonly opts: CcxtMarketStreamOptions,
  ) {
    this.venue = gw.venue;
    this.now = opts.now ?? Date.now;
  }

  start(symbols: readonly string[], h: MarketStreamHandlers): void {
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
    let lastAt = this.now();
    const watch = silenceWatch(this.opts.timing.silenceMs, () => this.now() - lastAt);
    const restarted = new Promise<never>((_resolve, reject) => {
      this.restart = () => reject(new SessionRestart());
    });
    restarted.catch(() => undefined);
    try {
      const map = this.gw.symbols();
      const wanted = this.symbols.flatMap((s) => map.venueSymbol(s, this.market) ?? []);
      if (wanted.length === 0) {
        // Nothing to stream: idle (not silent) until the symbol set changes or the stream stops.
        watch.cancel();
        await Promise.race([restarted, ctx.stopped]);
        return;
      }
      const batch = this.opts.batch ?? 100;
      const loops: Promise<never>[] = [];
      for (let i = 0; i < wanted.length; i += batch) {
        loops.push(
          this.watchLoop(ex, wanted.slice(i, i + batch), ctx, () => {
            lastAt = this.now();
          }),
        );
      }
      // Kraken sends `{"channel":"heartbeat"}` about once a second on a subscribed connection: a quiet pair is
      // not a silent stream. (Binance has no data heartbeat; its server pings are answered by ccxt's socket.)
      if (this.gw.venue === 'kraken') loops.push(this.heartbeats(ex, ctx, () => (lastAt = this.now())));
      await Promise.race([...loops, watch.tripped, restarted, ctx.stopped]);
    } finally {
      watch.cancel();
      this.restart = undefined;
      await ex.close().catch(() => undefined);
    }
  }

  private async heartbeats(ex: Exchange, ctx: SessionContext, heard: () => void): Promise<never> {
    const pro = ex as unknown as { watchHeartbeat(): Promise<unknown> };
    for (;;) {
      await pro.watchHeartbeat();
      if (!ctx.alive()) throw new SessionRestart();
      heard();
    }
  }

  /**
   * One batch's loop. ccxt resolves `watchTickers` with the ticker that woke it only, and updates that arrive in the
   * same read (Binance pushes every subscribed symbol at once) land in `ex.tickers` without waking anyone: so each
   * wake-up reads the cache and takes every ticker object that changed since the last one (ccxt replaces it on
   * each update).
   */
  private async watchLoop(ex: Exchange, symbols: string[], ctx: SessionContext, heard: () => void): Promise<never> {
    const params = this.gw.venue === 'binance' ? { name: 'ticker' } : {};
    const map = this.gw.symbols();
    const seen = new Map<string, unknown>();
    for (;;) {
      await ex.watchTickers(symbols, params);
      if (!ctx.alive()) throw new SessionRestart();
      heard();
      ctx.live();
      const at = this.now();
      const out: Ticker[] = [];
      for (const s of symbols) {
        const t = ex.tickers[s];
        if (t === undefined || seen.get(s) === t) continue;
        seen.set(s, t);
        try {
          out.push(toTicker(t, map, at));
        } catch {
          // One unparseable ticker is skipped; the next one for that symbol replaces it.
        }
      }
      if (out.length > 0) this.handlers?.onTickers(out);
    }
  }
}
