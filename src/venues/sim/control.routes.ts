/**
 * The control API under `/__sim/`: JSON in and out, every body validated with zod, errors as
 * `{"error":{"code","message"}}` with a 4xx status. Mirrors the in-process controls of `Simulator`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { FaultSpecError } from './faults.js';
import { json, type SimRequest, type SimResponse } from './http-types.js';
import { ScenarioError } from './scenarios.js';
import type { Simulator } from './simulator.js';

const venue = z.enum(['binance', 'kraken']);
const balances = z.record(z.string(), z.number().min(0).finite()).superRefine((r, ctx) => {
  for (const k of Object.keys(r))
    if (!/^[A-Z0-9]{2,12}$/.test(k))
      ctx.addIssue({ code: 'custom', path: [k], message: `asset codes are upper-case (BTC, USDT), got "${k}"` });
});

const schemas = {
  advance: z
    .object({
      ms: z
        .number()
        .int()
        .positive()
        .max(30 * 86_400_000),
    })
    .strict(),
  account: z
    .object({
      venue,
      apiKey: z.string().min(8).max(200).optional(),
      secret: z.string().min(8).max(200).optional(),
      spot: balances.optional(),
      futures: balances.optional(),
      spotOnly: z.boolean().optional(),
    })
    .strict(),
  balances: z
    .object({ venue, apiKey: z.string().optional(), spot: balances.optional(), futures: balances.optional() })
    .strict(),
  price: z
    .object({
      venue: venue.default('binance'),
      market: z.enum(['spot', 'perp']).default('spot'),
      symbol: z.string().min(2),
      price: z.number().positive().finite(),
    })
    .strict(),
  limits: z
    .object({
      spotWeightPerMinute: z.number().int().positive().optional(),
      futuresWeightPerMinute: z.number().int().positive().optional(),
      banAfter429s: z.number().int().min(0).optional(),
      banMs: z.number().int().positive().optional(),
    })
    .strict(),
  stateQuery: z
    .object({ venue: venue.optional(), account: z.string().optional(), open: z.enum(['true', 'false']).optional() })
    .strict(),
  truthQuery: z.object({ symbol: z.string().min(2).max(40) }).strict(),
  pricesQuery: z.object({ venue: venue.optional() }).strict(),
};

export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function fail(status: number, code: string, message: string): SimResponse {
  return json(status, { error: { code, message } });
}

function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
}

function body(req: SimRequest): unknown {
  if (req.rawBody.trim() === '') return {};
  try {
    return JSON.parse(req.rawBody);
  } catch {
    throw new ControlError(400, 'invalid_json', 'request body is not valid JSON');
  }
}

function query(req: SimRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(req.rawQuery));
}

type Route = (req: SimRequest, sim: Simulator, arg: string | undefined) => SimResponse;

const ROUTES: Record<string, Route> = {
  'GET /__sim/health': (_r, sim) => json(200, { ok: true, now: sim.now(), baseUrl: sim.baseUrl }),
  'GET /__sim/clock': (_r, sim) => json(200, { now: sim.now(), iso: new Date(sim.now()).toISOString() }),
  'POST /__sim/clock/advance': (r, sim) => {
    const { ms } = schemas.advance.parse(body(r));
    sim.advance(ms);
    return json(200, { now: sim.now(), iso: new Date(sim.now()).toISOString() });
  },
  'GET /__sim/faults': (_r, sim) => json(200, { faults: sim.faults.list() }),
  'POST /__sim/faults': (r, sim) => json(201, sim.faults.add(body(r) as never)),
  'DELETE /__sim/faults': (_r, sim) => {
    sim.faults.clear();
    return json(200, { faults: [] });
  },
  'DELETE /__sim/faults/:id': (_r, sim, id) =>
    sim.faults.remove(id ?? '') ? json(200, { removed: id }) : fail(404, 'not_found', `no fault ${id}`),
  'GET /__sim/scenarios': (_r, sim) => json(200, { scenarios: sim.scenarios() }),
  'POST /__sim/scenarios': (r, sim) => json(201, sim.scenario(body(r) as never)),
  'POST /__sim/reset': (_r, sim) => {
    sim.reset();
    return json(200, { ok: true });
  },
  'GET /__sim/state': (r, sim) => {
    const q = schemas.stateQuery.parse(query(r));
    return json(
      200,
      sim.state({
        ...(q.venue ? { venue: q.venue } : {}),
        ...(q.account ? { account: q.account } : {}),
        open: q.open === 'true',
      }),
    );
  },
  'GET /__sim/requests': (_r, sim) => json(200, sim.requests()),
  'DELETE /__sim/requests': (_r, sim) => {
    sim.resetRequests();
    return json(200, { ok: true });
  },
  'GET /__sim/truth': (r, sim) => json(200, sim.truth(schemas.truthQuery.parse(query(r)).symbol)),
  'GET /__sim/prices': (r, sim) => json(200, sim.prices(schemas.pricesQuery.parse(query(r)).venue)),
  'POST /__sim/accounts': (r, sim) => {
    const a = schemas.account.parse(body(r));
    const keys = sim.createAccount(a.venue, {
      ...(a.apiKey === undefined ? {} : { apiKey: a.apiKey }),
      ...(a.secret === undefined ? {} : { secret: a.secret }),
      ...(a.spot === undefined ? {} : { spot: a.spot }),
      ...(a.futures === undefined ? {} : { futures: a.futures }),
      ...(a.spotOnly === undefined ? {} : { spotOnly: a.spotOnly }),
    });
    return json(201, { venue: a.venue, ...keys });
  },
  'POST /__sim/balances': (r, sim) => {
    const b = schemas.balances.parse(body(r));
    return json(200, sim.setBalances(b));
  },
  'POST /__sim/price': (r, sim) => {
    const p = schemas.price.parse(body(r));
    sim.setPrice(p);
    return json(200, { ok: true });
  },
  'GET /__sim/streams': (_r, sim) => json(200, { ...sim.streams.stats(), faults: sim.streams.faults() }),
  'POST /__sim/streams/faults': (r, sim) => json(201, sim.streams.fault(body(r) as never)),
  'DELETE /__sim/streams/faults': (_r, sim) => {
    sim.streams.clearFaults();
    return json(200, { faults: [] });
  },
  'GET /__sim/limits': (_r, sim) => json(200, sim.limits()),
  // Kraken's limits in force (the tier; `off`: none) and what they refused (a paper run proves it stayed inside).
  'GET /__sim/limits/kraken': (_r, sim) => json(200, { tier: sim.krakenTier, refused: sim.krakenRateLimited() }),
  'POST /__sim/limits': (r, sim) => json(200, sim.setLimits(schemas.limits.parse(body(r)))),
};

/** Header carrying the control token (`SimulatorOptions.controlToken`). */
export const SIM_TOKEN_HEADER = 'x-sim-token';

/**
 * With a token configured, every control route but `GET /__sim/health` needs it: balances, prices, faults and
 * the clock were open to anything on loopback. Compared in constant time.
 */
function tokenRefusal(req: SimRequest, token: string | undefined): SimResponse | undefined {
  if (!token || (req.method === 'GET' && req.path.replace(/\/+$/, '') === '/__sim/health')) return undefined;
  const presented = req.headers[SIM_TOKEN_HEADER];
  const digest = (t: string) => createHash('sha256').update(t, 'utf8').digest();
  if (typeof presented === 'string' && timingSafeEqual(digest(presented), digest(token))) return undefined;
  return fail(401, 'unauthorized', `control routes need the ${SIM_TOKEN_HEADER} header (printed by npm run sim)`);
}

/** Answers one control request. */
export function handleControl(req: SimRequest, sim: Simulator, controlToken?: string): SimResponse {
  const refused = tokenRefusal(req, controlToken);
  if (refused) return refused;
  const path = req.path.replace(/\/+$/, '');
  let route = ROUTES[`${req.method} ${path}`];
  let arg: string | undefined;
  const m = /^(\/__sim\/faults)\/([\w-]+)$/.exec(path);
  if (route === undefined && m !== null) {
    route = ROUTES[`${req.method} ${m[1]}/:id`];
    arg = m[2];
  }
  if (route === undefined) {
    const known = Object.keys(ROUTES).some((k) => k.split(' ')[1] === path);
    return known
      ? fail(405, 'method_not_allowed', `${req.method} not allowed on ${path}`)
      : fail(404, 'not_found', `no control route ${req.method} ${path}`);
  }
  try {
    return route(req, sim, arg);
  } catch (e) {
    if (e instanceof z.ZodError) return fail(400, 'invalid_request', zodMessage(e));
    if (e instanceof ControlError) return fail(e.status, e.code, e.message);
    if (e instanceof FaultSpecError || e instanceof ScenarioError || e instanceof RangeError)
      return fail(400, 'invalid_request', e.message);
    throw e;
  }
}
