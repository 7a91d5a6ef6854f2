/**
 * Candles (Binance klines, Kraken OHLC) from the price paths' minute bars. Buckets are aligned on the epoch
 * (`openTime % interval === 0`), as both venues align them, so a client that builds bars on `floor(t / barMs)`
 * boundaries sees the same bars from history and from live ticks. A fresh simulator serves the paths'
 * prehistory (PREHISTORY_MINUTES before its origin), so strategies can warm up at once; the bucket in progress
 * is the last candle, as both venues return it.
 */
import { clean } from '../../domain/precision.js';
import type { MarketDef } from './instruments.js';
import type { Market } from './market.js';
import { hash32, unitFromHash } from './random.js';

export interface Candle {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Base volume (synthetic, as in the 24 h statistics). */
  volume: number;
  trades: number;
}

const MINUTE_MS = 60_000;

/**
 * Candles of `perMin` minutes whose open time lies in [fromMs, toMs], oldest first, at most up to the bucket in
 * progress at `t`. Prices are in the market's quote at today's scale (a scenario or a manual price moves the
 * whole history, as it moves the 24 h statistics), snapped to the tick.
 */
export function candles(
  market: Market,
  m: MarketDef,
  perMin: number,
  fromMs: number,
  toMs: number,
  t: number,
): Candle[] {
  const perMs = perMin * MINUTE_MS;
  const first = Math.ceil(fromMs / perMs) * perMs;
  const last = Math.floor(Math.min(toMs, t) / perMs) * perMs;
  if (!(last >= first)) return [];
  const path = market.path(m.base);
  const scale = market.fair(m, t) / (path.price || 1);
  const snap = (x: number) => Math.max(m.tickSize, clean(Math.round((x * scale) / m.tickSize) * m.tickSize));
  const stream = hash32(`vol|${m.venue}|${m.id}`);
  const out: Candle[] = [];
  let cur: Candle | undefined;
  for (const b of path.barsBetween(first / MINUTE_MS, last / MINUTE_MS + perMin - 1)) {
    const openTime = Math.floor((b.minute * MINUTE_MS) / perMs) * perMs;
    const volume = (2_000 / (b.close * scale || 1)) * (0.5 + unitFromHash(stream, b.minute));
    if (cur === undefined || cur.openTime !== openTime) {
      cur = { openTime, open: b.open, high: b.high, low: b.low, close: b.close, volume, trades: 17 };
      out.push(cur);
      continue;
    }
    cur.high = Math.max(cur.high, b.high);
    cur.low = Math.min(cur.low, b.low);
    cur.close = b.close;
    cur.volume += volume;
    cur.trades += 17;
  }
  for (const c of out) {
    c.open = snap(c.open);
    c.high = snap(c.high);
    c.low = snap(c.low);
    c.close = snap(c.close);
    c.high = Math.max(c.high, c.open, c.close);
    c.low = Math.min(c.low, c.open, c.close);
    c.volume = clean(c.volume);
  }
  return out;
}
