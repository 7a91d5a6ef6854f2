import { fromCallback } from 'xstate';
import type { MarketStream } from '../venues/streams/market-stream.js';
import type { Ticker } from '../venues/venue-gateway.js';
import { everyInterval } from './periodic.js';

/**
 * The feed's source when streaming (DESIGN §5: stream; REST poll as fallback). Ticks arrive by stream and go to the
 * symbols as they come; every interval the source reports what arrived (`feed.polled`), so staleness is judged the
 * same way as for polling. While the stream is not live — before it first connects, and whenever it is down — the
 * source polls REST through the linked gateway (budgeted, reported to conn) and reports the stream's state
 * (`feed.stream`), which the feed shows as DEGRADED "stream down, polling". The stream reconnects on its own
 * (backoff, resubscribe); ticks missed while it was down are not replayed, the polls in between stand for them.
 */
export interface FeedStreamDeps {
  /** A new stream per invocation (the feed restarts its source when its symbol set changes). */
  stream: () => MarketStream;
  /** One REST poll: delivers tickers and returns how many. */
  poll: (alive: () => boolean) => Promise<number>;
  /** Delivers one streamed ticker (`t0`: high-resolution receive time). */
  deliver: (t: Ticker, t0: number) => void;
  symbols: () => readonly string[];
  now: () => number;
  hr: () => number;
  /** After every interval, good or bad (conn re-judges time-based conditions). */
  afterEach?: () => void;
}

export function streamingFeedSource(deps: FeedStreamDeps) {
  return fromCallback<{ type: string }, { venue: string; symbols: string[]; intervalMs: number }>(
    ({ input, sendBack }) => {
      const stream = deps.stream();
      let live = false;
      let streamed = 0;
      stream.start(deps.symbols(), {
        onTickers: (tickers) => {
          const t0 = deps.hr();
          for (const t of tickers) deps.deliver(t, t0);
          streamed += tickers.length;
        },
        onStatus: (s) => {
          if (s.state === 'live') {
            live = true;
            sendBack({ type: 'feed.stream', state: 'live', at: deps.now() });
          } else if (s.state === 'down') {
            live = false;
            sendBack({ type: 'feed.stream', state: 'down', reason: s.reason ?? 'unknown', at: deps.now() });
          }
        },
      });
      const stop = everyInterval(
        input.intervalMs,
        async (alive) => {
          stream.setSymbols(deps.symbols());
          if (live) {
            const n = streamed;
            streamed = 0;
            // Nothing streamed this interval: no report, so a quiet stream turns the feed stale in staleMs.
            if (n > 0) sendBack({ type: 'feed.polled', at: deps.now(), ticks: n });
            return;
          }
          const n = await deps.poll(alive);
          if (alive()) sendBack({ type: 'feed.polled', at: deps.now(), ticks: n });
        },
        (error) => sendBack({ type: 'feed.failed', at: deps.now(), error }),
        deps.afterEach,
      );
      return () => {
        stop();
        void stream.stop().catch(() => undefined);
      };
    },
  );
}
