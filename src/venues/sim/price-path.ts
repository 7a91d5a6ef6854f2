/**
 * Seeded price paths with regime switches. Each asset's USD price is a geometric random walk whose drift and
 * volatility come from a hidden 3-state Markov chain (bull = calm up-trend, volatile, bear = down-trend),
 * re-drawn once per sim minute. Stablecoins follow a tight mean-reverting walk around 1 with one regime.
 *
 * The path is a pure function of (seed, asset, step): it is generated forward from step 0 with its own
 * generator, so two simulators with the same seed show the same prices at the same step whatever order or
 * frequency they are queried in. `GET /__sim/truth` reports the regime runs so models can be scored.
 */
import type { AssetDef } from './instruments.js';
import { hash32, Rng } from './random.js';

export type RegimeName = 'bull' | 'volatile' | 'bear' | 'peg';

export interface RegimeSpec {
  name: RegimeName;
  /** Expected log-return per hour (before the asset's scale). */
  driftPerHour: number;
  /** Standard deviation of log-returns per √hour (before the asset's scale). */
  volPerHour: number;
}

export const REGIMES: readonly RegimeSpec[] = [
  { name: 'bull', driftPerHour: 0.004, volPerHour: 0.004 },
  { name: 'volatile', driftPerHour: 0, volPerHour: 0.016 },
  { name: 'bear', driftPerHour: -0.005, volPerHour: 0.007 },
];

/** Per-minute transition probabilities, row = from, column = to (bull, volatile, bear). Mean holds 2 h / 45 min / 90 min. */
export const TRANSITIONS: readonly (readonly number[])[] = [
  [1 - 1 / 120, 0.6 / 120, 0.4 / 120],
  [0.5 / 45, 1 - 1 / 45, 0.5 / 45],
  [0.4 / 90, 0.6 / 90, 1 - 1 / 90],
];

/** The stablecoin walk: reversion speed per hour and noise per √hour. */
export const PEG = { reversionPerHour: 6, volPerHour: 0.0003 } as const;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Minute bars kept: 36 h, enough for the 2,000 one-minute bars the stable HMM warms on (klines, OHLC). */
const RING_MINUTES = 2160;
const DAY_MINUTES = 1440;
/** Minutes of history before the origin a path can replay (klines of a fresh simulator): 2 days. */
export const PREHISTORY_MINUTES = 2880;

/** How much more an alt moves than BTC. */
export function volScaleOf(code: string): number {
  if (code === 'BTC') return 1;
  if (code === 'ETH') return 1.25;
  return 1.6;
}

export interface RegimeRun {
  fromStep: number;
  regime: RegimeName;
}

export interface MinuteBar {
  /** Epoch minute (floor(epoch ms / 60,000)) the bar covers. */
  minute: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export class PricePath {
  readonly stepMs: number;
  private readonly rng: Rng;
  private readonly stepsPerMinute: number;
  private readonly scale: number;
  private k = 0;
  private value: number;
  /** Epoch minute of step 0 (the simulator's origin). */
  private readonly originMinute: number;
  private readonly originOffsetMs: number;
  private readonly initialRegimeIx: number;
  private prehistory: MinuteBar[] = [];
  private pre: { rng: Rng; value: number; regimeIx: number } | undefined;
  private regimeIx: number;
  private readonly runs: RegimeRun[];
  private readonly ring = {
    minute: new Float64Array(RING_MINUTES).fill(-1),
    open: new Float64Array(RING_MINUTES),
    high: new Float64Array(RING_MINUTES),
    low: new Float64Array(RING_MINUTES),
    close: new Float64Array(RING_MINUTES),
  };

  constructor(
    readonly asset: AssetDef,
    private readonly seed: number,
    stepMs = 1000,
    /** Epoch ms of step 0; bars are keyed by epoch minute, so klines align with the venue's. */
    originMs = 0,
  ) {
    if (!(stepMs > 0 && MINUTE_MS % stepMs === 0)) throw new RangeError(`stepMs must divide one minute, got ${stepMs}`);
    this.stepMs = stepMs;
    this.originMinute = Math.floor(originMs / MINUTE_MS);
    this.originOffsetMs = originMs - this.originMinute * MINUTE_MS;
    this.stepsPerMinute = MINUTE_MS / stepMs;
    this.rng = new Rng(hash32(`path:${seed}:${asset.code}`));
    this.scale = volScaleOf(asset.code);
    this.value = asset.startUsd;
    this.regimeIx = asset.stable ? -1 : Math.floor(this.rng.next() * REGIMES.length);
    this.initialRegimeIx = this.regimeIx;
    this.runs = [{ fromStep: 0, regime: this.regimeName() }];
    this.record();
  }

  /** Current step index (0 = the simulator's origin). */
  get step(): number {
    return this.k;
  }

  /** USD price at the current step. */
  get price(): number {
    return this.value;
  }

  get regime(): RegimeName {
    return this.regimeName();
  }

  /** Moves forward to `step`, calling `onStep` after each new step. Never moves back. */
  advanceTo(step: number, onStep?: (k: number, price: number) => void): void {
    while (this.k < step) {
      this.k++;
      if (this.k % this.stepsPerMinute === 0) this.switchRegime();
      this.value = this.asset.stable ? this.pegStep() : this.walkStep();
      this.record();
      onStep?.(this.k, this.value);
    }
  }

  /** Regime switches so far (the first run starts at step 0). */
  regimeRuns(): RegimeRun[] {
    return this.runs.map((r) => ({ ...r }));
  }

  /** The regime in force at a step already generated. */
  regimeAt(step: number): RegimeName {
    let lo = 0;
    let hi = this.runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.runs[mid]?.fromStep ?? 0) <= step) lo = mid;
      else hi = mid - 1;
    }
    return this.runs[lo]?.regime ?? this.regimeName();
  }

  /** Epoch minute of the current step. */
  get minute(): number {
    return this.minuteOf(this.k);
  }

  /** Epoch minute of the origin (step 0). */
  get firstMinute(): number {
    return this.originMinute;
  }

  /** Minute bars of the last `minutes` minutes still held (up to 36 h, default 24 h), oldest first. */
  bars(minutes = DAY_MINUTES): MinuteBar[] {
    const cur = this.minute;
    return this.barsBetween(cur - Math.min(minutes, RING_MINUTES) + 1, cur, false);
  }

  /**
   * Minute bars with epoch minutes in [from, to], oldest first: the prehistory (a walk generated backwards from
   * the start price, up to PREHISTORY_MINUTES before the origin, so a fresh simulator has klines to serve) and
   * then the bars still held since the origin. Minutes outside both are absent.
   */
  barsBetween(from: number, to: number, withPrehistory = true): MinuteBar[] {
    const out: MinuteBar[] = [];
    const lo = Math.max(from, this.originMinute - (withPrehistory ? PREHISTORY_MINUTES : 0));
    if (lo < this.originMinute) {
      this.extendPrehistory(this.originMinute - lo);
      for (let m = lo; m <= Math.min(to, this.originMinute - 1); m++) {
        const b = this.prehistory[this.originMinute - 1 - m];
        if (b !== undefined) out.push(b);
      }
    }
    const cur = this.minute;
    for (let m = Math.max(lo, this.originMinute, cur - RING_MINUTES + 1); m <= Math.min(to, cur); m++) {
      const i = m % RING_MINUTES;
      if (this.ring.minute[i] !== m) continue;
      out.push({
        minute: m,
        open: this.ring.open[i] ?? 0,
        high: this.ring.high[i] ?? 0,
        low: this.ring.low[i] ?? 0,
        close: this.ring.close[i] ?? 0,
      });
    }
    return out;
  }

  private minuteOf(k: number): number {
    return this.originMinute + Math.floor((this.originOffsetMs + k * this.stepMs) / MINUTE_MS);
  }

  /**
   * Generates prehistory bars backwards from the start price (its own generator, so the forward path is the same
   * with or without it): one log-return per minute from the same regimes, with wicks. The regime in force at the
   * origin reaches back into the prehistory (a regime does not switch because the simulator started), then the
   * chain runs backwards. Deterministic per (seed, asset), whatever is asked first.
   */
  private extendPrehistory(minutes: number): void {
    const want = Math.min(minutes, PREHISTORY_MINUTES);
    if (this.prehistory.length >= want) return;
    if (this.pre === undefined) {
      const rng = new Rng(hash32(`prehistory:${this.seed}:${this.asset.code}`));
      this.pre = { rng, value: this.asset.startUsd, regimeIx: this.initialRegimeIx };
    }
    const g = this.pre;
    const dtH = MINUTE_MS / HOUR_MS;
    while (this.prehistory.length < want) {
      const close = g.value;
      let open: number;
      let sigma: number;
      if (g.regimeIx < 0) {
        sigma = PEG.volPerHour;
        open = 1 + (close - 1) * Math.exp(PEG.reversionPerHour * dtH) - sigma * Math.sqrt(dtH) * g.rng.gaussian();
      } else {
        const r = REGIMES[g.regimeIx] ?? REGIMES[1]!;
        const row = TRANSITIONS[g.regimeIx] ?? [];
        sigma = r.volPerHour * this.scale;
        const x = (r.driftPerHour * this.scale - 0.5 * sigma * sigma) * dtH + sigma * Math.sqrt(dtH) * g.rng.gaussian();
        open = close * Math.exp(-x);
        const u = g.rng.next();
        let acc = 0;
        for (let j = 0; j < row.length; j++) {
          acc += row[j] ?? 0;
          if (u < acc) {
            g.regimeIx = j;
            break;
          }
        }
      }
      const wick = sigma * Math.sqrt(dtH) * 0.5;
      const high = Math.max(open, close) * Math.exp(wick * Math.abs(g.rng.gaussian()));
      const low = Math.min(open, close) * Math.exp(-wick * Math.abs(g.rng.gaussian()));
      this.prehistory.push({ minute: this.originMinute - 1 - this.prehistory.length, open, high, low, close });
      g.value = open;
    }
  }

  private regimeName(): RegimeName {
    return this.regimeIx < 0 ? 'peg' : (REGIMES[this.regimeIx]?.name ?? 'volatile');
  }

  private switchRegime(): void {
    if (this.regimeIx < 0) return;
    const row = TRANSITIONS[this.regimeIx] ?? [];
    const u = this.rng.next();
    let acc = 0;
    let next = this.regimeIx;
    for (let j = 0; j < row.length; j++) {
      acc += row[j] ?? 0;
      if (u < acc) {
        next = j;
        break;
      }
    }
    if (next !== this.regimeIx) {
      this.regimeIx = next;
      this.runs.push({ fromStep: this.k, regime: this.regimeName() });
    }
  }

  private walkStep(): number {
    const r = REGIMES[this.regimeIx] ?? REGIMES[1]!;
    const dtH = this.stepMs / HOUR_MS;
    const mu = r.driftPerHour * this.scale;
    const sigma = r.volPerHour * this.scale;
    return this.value * Math.exp((mu - 0.5 * sigma * sigma) * dtH + sigma * Math.sqrt(dtH) * this.rng.gaussian());
  }

  private pegStep(): number {
    const dtH = this.stepMs / HOUR_MS;
    const pull = -PEG.reversionPerHour * (this.value - 1) * dtH;
    return this.value + pull + PEG.volPerHour * Math.sqrt(dtH) * this.rng.gaussian();
  }

  private record(): void {
    const m = this.minuteOf(this.k);
    const i = m % RING_MINUTES;
    const v = this.value;
    if (this.ring.minute[i] !== m) {
      this.ring.minute[i] = m;
      this.ring.open[i] = v;
      this.ring.high[i] = v;
      this.ring.low[i] = v;
    } else {
      if (v > (this.ring.high[i] ?? v)) this.ring.high[i] = v;
      if (v < (this.ring.low[i] ?? v)) this.ring.low[i] = v;
    }
    this.ring.close[i] = v;
  }
}
