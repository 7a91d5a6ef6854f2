/**
 * Event breakout (pure): an external event arms a symbol; the first price after it is the reference; a move of
 * at least `breakoutPct` in the event's direction within `windowMs` is a breakout decision (and disarms); no move
 * within the window disarms it as expired. The actor consuming `events.external_feed` runs this and either logs
 * the decision (EVENT_BREAKOUT_DRY_RUN) or hands it to the order path.
 */
export interface ExternalEvent {
  id: string;
  source: string;
  receivedAt: number;
  payload: { symbol?: unknown; direction?: unknown; [k: string]: unknown };
}

export interface BreakoutParams {
  windowMs: number;
  breakoutPct: number;
}

export const BREAKOUT_DEFAULTS: Readonly<BreakoutParams> = { windowMs: 15 * 60_000, breakoutPct: 1 };

export interface Armed {
  eventId: string;
  source: string;
  armedAt: number;
  refPrice: number | null;
  direction: 'up' | 'down' | 'any';
}

export interface BreakoutState {
  armed: Record<string, Armed>;
  decisions: number;
  expired: number;
}

export interface BreakoutDecision {
  symbol: string;
  side: 'buy' | 'sell';
  eventId: string;
  source: string;
  refPrice: number;
  triggerPrice: number;
  movePct: number;
  latencyMs: number;
}

export function initialBreakoutState(): BreakoutState {
  return { armed: {}, decisions: 0, expired: 0 };
}

/** `FOOUSDT`, `btcusdt`, `BTCUSDT.BINANCE` → `BTCUSDT`; anything else null. */
export function normaliseSymbol(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim().toUpperCase().split('.')[0] ?? '';
  return /^[A-Z0-9]{2,20}$/.test(s) ? s : null;
}

export function onExternalEvent(
  s: BreakoutState,
  e: ExternalEvent,
  opts: { enabled: boolean; tradableSymbols: readonly string[] },
): { state: BreakoutState; accepted: boolean; reason: string } {
  if (!opts.enabled) return { state: s, accepted: false, reason: 'EVENT_BREAKOUT_ENABLED=false' };
  const symbol = normaliseSymbol(e.payload.symbol);
  if (symbol === null) return { state: s, accepted: false, reason: 'payload.symbol missing or malformed' };
  if (!opts.tradableSymbols.includes(symbol))
    return { state: s, accepted: false, reason: `${symbol} is not traded here` };
  const d = e.payload.direction;
  const direction = d === 'up' || d === 'down' ? d : 'any';
  const armed: Armed = { eventId: e.id, source: e.source, armedAt: e.receivedAt, refPrice: null, direction };
  return { state: { ...s, armed: { ...s.armed, [symbol]: armed } }, accepted: true, reason: 'armed' };
}

export function onPrice(
  s: BreakoutState,
  symbol: string,
  price: number,
  at: number,
  p: BreakoutParams,
): { state: BreakoutState; decision: BreakoutDecision | null } {
  const a = s.armed[symbol];
  if (!a || !(Number.isFinite(price) && price > 0)) return { state: s, decision: null };
  const { [symbol]: _gone, ...rest } = s.armed;
  if (at - a.armedAt > p.windowMs) return { state: { ...s, armed: rest, expired: s.expired + 1 }, decision: null };
  if (a.refPrice === null)
    return { state: { ...s, armed: { ...s.armed, [symbol]: { ...a, refPrice: price } } }, decision: null };
  const movePct = ((price - a.refPrice) / a.refPrice) * 100;
  const up = movePct >= p.breakoutPct && a.direction !== 'down';
  const down = movePct <= -p.breakoutPct && a.direction !== 'up';
  if (!up && !down) return { state: s, decision: null };
  return {
    state: { ...s, armed: rest, decisions: s.decisions + 1 },
    decision: {
      symbol,
      side: up ? 'buy' : 'sell',
      eventId: a.eventId,
      source: a.source,
      refPrice: a.refPrice,
      triggerPrice: price,
      movePct,
      latencyMs: at - a.armedAt,
    },
  };
}

/** Slippage in basis points, positive when the fill is worse for us than expected. */
export function slippageBps(side: 'buy' | 'sell', expected: number, fill: number): number {
  if (!(expected > 0 && fill > 0)) return 0;
  const bps = ((fill - expected) / expected) * 10_000;
  return side === 'buy' ? bps : -bps;
}
