/**
 * What the HTTP layer needs from the symbol scanner (the `universe`, `screener` listeners and
 * `POST /scanner/rescan`): plain JSON in and out; the scanner actor implements it.
 */
export interface MarketFilterView {
  symbol: string;
  base: string;
  quote: string;
  minQty: number;
  stepSize: number;
  tickSize: number;
  minNotional: number;
}

export interface ScoreView {
  symbol: string;
  score: number;
  volume: number;
  volatility: number;
  trend: number;
}

export interface ScanView {
  enabled: boolean;
  /** Epoch ms of the last finished pass (null before the first). */
  passAt: number | null;
  passes: number;
  venues: Record<string, { shortlist: string[]; scores: ScoreView[] }>;
}

export interface ScannerPort {
  /** Tradable spot symbols per venue with their filters. */
  universe(): Record<string, MarketFilterView[]>;
  scan(): ScanView;
  /** Health of the scanner actor (the listeners' `/health`). */
  health(): { value: 'OK' | 'DEGRADED' | 'HALTED'; reason: string };
  /** Runs a fresh pass now (coalesced with one already running) and resolves with its result. */
  rescan(actor: string): Promise<ScanView>;
}
