/**
 * Fault injection. A fault is a rule — what to do (kind), where (venue, optional path prefix and method), how
 * often (`rate`, the fraction of matching requests it hits) and for how long (`count` hits or `durationMs` of
 * sim time). The server asks this book on every venue request; control routes and `sim.faults` fill it.
 */
import { z } from 'zod';
import { hash32, Rng } from './random.js';

export const VENUES = ['binance', 'kraken'] as const;
export type Venue = (typeof VENUES)[number];
export const venueScope = z.enum(['binance', 'kraken', 'all']);

const scope = {
  /** Which dialect the fault hits. */
  venue: venueScope.default('all'),
  /** Path prefix, e.g. `/api/v3/order` or `/0/private/AddOrder`; omitted = every path of the venue. */
  path: z.string().startsWith('/').max(200).optional(),
  method: z.enum(['GET', 'POST', 'DELETE', 'PUT']).optional(),
  /** Fraction of matching requests hit (an "error rate"); sampled from the simulator's seed. */
  rate: z.number().min(0).max(1).default(1),
  /** Stop after this many hits. */
  count: z.number().int().positive().optional(),
  /** Stop after this much sim time. */
  durationMs: z.number().int().positive().optional(),
};

const retryAfter = z
  .number()
  .int()
  .min(0)
  .max(3 * 24 * 3600);

/** Every fault the simulator can inject (`kind` picks one). */
export const faultSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('latency'), ms: z.number().int().min(1).max(120_000), ...scope }).strict(),
  /** Never answer; the socket stays open until the client gives up or the simulator closes. */
  z.object({ kind: z.literal('hang'), ...scope }).strict(),
  /** Destroy the socket without an answer. */
  z.object({ kind: z.literal('disconnect'), ...scope }).strict(),
  /** Binance: 429 `-1003` JSON with Retry-After; Kraken: 429 with an HTML body. */
  z.object({ kind: z.literal('http_429'), retryAfterSec: retryAfter.default(30), ...scope }).strict(),
  /** 418 `-1003` IP ban with Retry-After. */
  z.object({ kind: z.literal('http_418'), retryAfterSec: retryAfter.default(120), ...scope }).strict(),
  /** A 5xx HTML page (what a load balancer returns). */
  z.object({ kind: z.literal('http_5xx'), status: z.number().int().min(500).max(599).default(503), ...scope }).strict(),
  /**
   * A venue error body: Binance `{code,msg}` with `status` (default 400), Kraken `{"error":[error]}` with 200.
   * With venue `all`, give both `code` and `error`.
   */
  z
    .object({
      kind: z.literal('venue_error'),
      code: z.number().int().optional(),
      msg: z.string().max(500).optional(),
      error: z.string().min(2).max(200).optional(),
      status: z.number().int().min(200).max(599).optional(),
      ...scope,
    })
    .strict(),
  /** The request is fully processed (an order is booked), then answered 502 with an HTML page. */
  z.object({ kind: z.literal('accept_then_502'), ...scope }).strict(),
  /** Stop/take-profit orders are answered as accepted but never stored or triggered. */
  z.object({ kind: z.literal('drop_stops'), ...scope }).strict(),
  /** The venue's clock (timestamp checks, /time) is off by `ms`. */
  z.object({ kind: z.literal('clock_skew'), ms: z.number().int().min(-86_400_000).max(86_400_000), ...scope }).strict(),
  /** HTTP 200 with a non-JSON body. */
  z.object({ kind: z.literal('garbage_200'), ...scope }).strict(),
]);

export type FaultInput = z.input<typeof faultSpecSchema>;
export type FaultSpec = z.output<typeof faultSpecSchema>;
export type FaultKind = FaultSpec['kind'];

/** A fault as stored: its spec plus bookkeeping. */
export interface FaultInfo {
  id: string;
  spec: FaultSpec;
  hits: number;
  addedAtMs: number;
  untilMs: number | undefined;
}

/** The slice of a request a fault scope looks at. */
export interface FaultTarget {
  venue: Venue;
  method: string;
  path: string;
}

/** Faults that end the request with their own answer (everything but the modifiers). */
export const TERMINAL_KINDS: ReadonlySet<FaultKind> = new Set([
  'hang',
  'disconnect',
  'http_429',
  'http_418',
  'http_5xx',
  'venue_error',
  'garbage_200',
]);

export class FaultBook {
  private faults: FaultInfo[] = [];
  private seq = 0;
  private readonly rng: Rng;

  constructor(
    seed: number,
    private readonly now: () => number,
  ) {
    this.rng = new Rng(hash32(`faults:${seed}`));
  }

  /** Validates and installs a fault; throws a ZodError on bad input. */
  add(input: FaultInput): FaultInfo {
    const spec = faultSpecSchema.parse(input);
    if (spec.kind === 'venue_error') checkVenueError(spec);
    const at = this.now();
    const info: FaultInfo = {
      id: `f${++this.seq}`,
      spec,
      hits: 0,
      addedAtMs: at,
      untilMs: spec.durationMs === undefined ? undefined : at + spec.durationMs,
    };
    this.faults.push(info);
    return info;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  list(): FaultInfo[] {
    this.expire();
    return this.faults.map((f) => ({ ...f }));
  }

  /** The first terminal fault that fires for this request (consumes one hit), if any. */
  terminal(t: FaultTarget): FaultInfo | undefined {
    return this.fire(t, (k) => TERMINAL_KINDS.has(k))[0];
  }

  /** Total added latency for this request. */
  latencyMs(t: FaultTarget): number {
    let ms = 0;
    for (const f of this.fire(t, (k) => k === 'latency', true)) if (f.spec.kind === 'latency') ms += f.spec.ms;
    return ms;
  }

  /** Whether this request's processing should be answered 502 afterwards (consumes one hit). */
  acceptThen502(t: FaultTarget): boolean {
    return this.fire(t, (k) => k === 'accept_then_502').length > 0;
  }

  /** Whether a stop order in this request is to be silently dropped (consumes one hit). */
  dropStop(t: FaultTarget): boolean {
    return this.fire(t, (k) => k === 'drop_stops').length > 0;
  }

  /** The venue clock skew in ms (the sum of active clock_skew faults); does not consume hits. */
  skewMs(venue: Venue): number {
    this.expire();
    let ms = 0;
    for (const f of this.faults)
      if (f.spec.kind === 'clock_skew' && (f.spec.venue === 'all' || f.spec.venue === venue)) ms += f.spec.ms;
    return ms;
  }

  private fire(t: FaultTarget, wanted: (k: FaultKind) => boolean, all = false): FaultInfo[] {
    this.expire();
    const out: FaultInfo[] = [];
    for (const f of this.faults) {
      if (!wanted(f.spec.kind) || !inScope(f.spec, t)) continue;
      if (f.spec.rate < 1 && this.rng.next() >= f.spec.rate) continue;
      f.hits++;
      out.push(f);
      if (!all) break;
    }
    if (out.length > 0) this.faults = this.faults.filter((f) => f.spec.count === undefined || f.hits < f.spec.count);
    return out;
  }

  private expire(): void {
    const now = this.now();
    if (this.faults.some((f) => f.untilMs !== undefined && now >= f.untilMs))
      this.faults = this.faults.filter((f) => f.untilMs === undefined || now < f.untilMs);
  }
}

function inScope(spec: FaultSpec, t: FaultTarget): boolean {
  if (spec.venue !== 'all' && spec.venue !== t.venue) return false;
  if (spec.method !== undefined && spec.method !== t.method) return false;
  return spec.path === undefined || t.path.startsWith(spec.path);
}

function checkVenueError(spec: Extract<FaultSpec, { kind: 'venue_error' }>): void {
  const needCode = spec.venue !== 'kraken';
  const needError = spec.venue !== 'binance';
  if (needCode && spec.code === undefined)
    throw new FaultSpecError(`venue_error for ${spec.venue} needs a Binance "code" (e.g. -1021)`);
  if (needError && spec.error === undefined)
    throw new FaultSpecError(`venue_error for ${spec.venue} needs a Kraken "error" string (e.g. "EAPI:Invalid nonce")`);
}

/** A fault spec that parses but makes no sense (reported as 400 by the control API). */
export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}
