/**
 * Public trades by stream through ccxt.pro (one market kind of one venue): Binance `<symbol>@trade` on spot and
 * USDⓈ-M (ccxt's `watchTradesForSymbols`, default channel `trade`). A quiet symbol prints nothing for minutes, so
 * there is no silence limit here (ccxt's keepalive pings find a dead connection); the session ends on any watch
 * error, the runner backs off and starts a fresh one, and the consumer reads REST (`fetchTrades`) meanwhile.
 */
import type { Exchange } from 'ccxt';
import type { CcxtGateway } from '../ccxt-gateway.js';
import { toPublicTrade } from '../ccxt-mappers.js';
import type { MarketKind, PublicTrade } from '../venue-gateway.js';
import {
  type SessionContext,
  SessionRestart,
  StreamRunner,
  type StreamStatus,
  type StreamTiming,
} from './stream-runner.js';

export interface TradeStreamHandlers {
  /** Prints as they arrive, each once (Bosun symbols). */
  onTrades(trades: PublicTrade[]): void;
  onStatus(s: StreamStatus): void;
}

export interface TradeStream {
  readonly venue: string;
  readonly market: MarketKind;
  start(symbols: readonly string[], h: TradeStreamHandlers): void;
  /** A new symbol set: the stream resubscribes, which is not a failure. */
  setSymbols(symbols: readonly string[]): void;
  status(): StreamStatus;
  stop(): Promise<void>;
}

/** Trade ids remembered per symbol to hand each print over once (ccxt's cache keeps the last 1,000). */
const SEEN_KEEP = 2_000;

export class CcxtTradeStream implements TradeStream {
  readonly venue: string;
  private symbols: string[] = [];
  private handlers: TradeStreamHandlers | undefined;
  private runner: StreamRunner | undefined;
  private restart: (() => void) | undefined;
  private readonly now: () => number;

  constructor(
    private readonly gw: CcxtGateway,
    readonly market: MarketKind,
    private readonly opts: { timing: StreamTiming; now?: () => number; random?: () => number },
  ) {
    this.venue = gw.venue;
    this.now = opts.now ?? Date.now;
  }

  start(symbols: readonly string[], h: TradeStreamHandlers): void {
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
      if (wanted.length === 0) {
        await Promise.race([restarted, ctx.stopped]);
        return;
      }
      const loops: Promise<never>[] = [];
      for (let i = 0; i < wanted.length; i += 200) loops.push(this.watchLoop(ex, wanted.slice(i, i + 200), ctx));
      await Promise.race([...loops, restarted, ctx.stopped]);
    } finally {
      this.restart = undefined;
      await ex.close().catch(() => undefined);
    }
  }

  /**
   * One batch's loop: each wake-up reads ccxt's trade cache of every symbol of the batch and hands over the prints
   * not seen yet (prints of several symbols may arrive in one read and wake the watcher once).
   */
  private async watchLoop(
    ex: Exchange,
    symbols: Array<{ bosun: string; venue: string }>,
    ctx: SessionContext,
  ): Promise<never> {
    const seen = new Map<string, Set<string>>();
    for (;;) {
      await ex.watchTradesForSymbols(
        symbols.map((s) => s.venue),
        undefined,
        undefined,
      );
      if (!ctx.alive()) throw new SessionRestart();
      ctx.live();
      const out: PublicTrade[] = [];
      for (const s of symbols) {
        const cache = (ex.trades as Record<string, unknown[] | undefined>)[s.venue] ?? [];
        const ids = seen.get(s.venue) ?? new Set<string>();
        seen.set(s.venue, ids);
        for (const raw of cache) {
          const id = String((raw as { id?: unknown }).id ?? '');
          if (id === '' || ids.has(id)) continue;
          ids.add(id);
          try {
            out.push(toPublicTrade(raw, s.bosun));
          } catch {
            // An unparseable print is skipped; the REST fallback is the record.
          }
        }
        if (ids.size > SEEN_KEEP) seen.set(s.venue, new Set([...ids].slice(-SEEN_KEEP / 2)));
      }
      if (out.length > 0) this.handlers?.onTrades(out);
    }
  }
}
