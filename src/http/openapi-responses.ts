import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../domain/errors.js';
import { GoLiveResponse } from './routes/golive.routes.js';

/**
 * The response side of the OpenAPI document (`/docs`): one zod schema per route and status, and the error
 * catalogue's codes each route can answer, with an example body per code. Kept in one table rather than in each
 * route file so the route modules stay as they are; `installResponseSchemas` attaches them as routes register, and
 * test/http/docs.integration.test.ts fails for any route this table does not cover.
 *
 * The schemas document; they are not enforced on the way out (build-server.ts serialises with JSON.stringify as
 * before): a response that drifted from its schema must never turn an applied `/kill` into a 500.
 */

const Health = z.enum(['OK', 'DEGRADED', 'HALTED']);
const TradingState = z.enum(['ACTIVE', 'REDUCING', 'HALTED']);
const Scope = z.looseObject({
  state: TradingState,
  reason: z.string(),
  by: z.string().describe('X-Ops-Actor, or system/env/boot'),
  at: z.number().describe('epoch ms'),
  command: z.string(),
});
const Governance = z.looseObject({
  global: Scope,
  venues: z.record(z.string(), Scope),
  symbols: z.record(z.string(), Scope).describe('keyed venue:SYMBOL'),
});
const AuditRef = z.looseObject({ seq: z.number().int().describe('the audit record written before the answer') });

const StopMarket = z.enum(['spot', 'perp']).describe('spot, or the USDⓈ-M perpetual (one-way mode)');
const PositionSide = z.enum(['long', 'short']);
const StopStatus = z
  .enum(['pending', 'live', 'unknown'])
  .describe('live: seen at the venue; pending: journaled, not yet acknowledged; unknown: being looked up by its id');
const RecordedStop = z.looseObject({
  clientOrderId: z.string(),
  generation: z.number().int(),
  status: StopStatus,
  side: z.enum(['buy', 'sell']).describe('the closing side: sell below a long, buy above a short'),
  qty: z.number(),
  stopPrice: z.number(),
  reduceOnly: z.boolean().describe('true for a perpetual stop (it can only shrink the position)'),
  venueOrderId: z.string().nullable(),
  sentAt: z.number().describe('epoch ms'),
});
/** `GET /guards/stops` (exported so the route's tests hold the answer to it). */
export const GuardsStopsResponse = z
  .looseObject({
    venues: z.array(
      z.looseObject({
        venue: z.string(),
        health: z.looseObject({ value: Health, reason: z.string() }),
        passes: z.number().int(),
        lastPassAt: z.number().nullable(),
        missingTotal: z.number().int(),
        placedTotal: z.number().int(),
        positions: z.array(
          z.looseObject({
            market: StopMarket,
            symbol: z.string(),
            side: PositionSide,
            qty: z.number().describe("base quantity of Bosun's position (absolute)"),
            entryPrice: z.number().nullable(),
            stop: RecordedStop.nullable().describe('null: no stop on record (see unprotectedSince)'),
            unprotectedSince: z.number().nullable(),
          }),
        ),
        stops: z
          .array(
            z.looseObject({
              market: StopMarket,
              symbol: z.string(),
              side: z.enum(['buy', 'sell']),
              triggerPrice: z.number(),
              amount: z.number(),
              reduceOnly: z.boolean(),
              status: StopStatus,
              clientOrderId: z.string(),
              generation: z.number().int(),
              venueOrderId: z.string().nullable(),
              protects: z.looseObject({ side: PositionSide, qty: z.number(), entryPrice: z.number().nullable() }),
            }),
          )
          .describe('every protective stop on record, spot and perpetual, with the position it protects'),
      }),
    ),
  })
  .describe('each position and its server-side stop, per venue (spot and perpetual)');

interface ActorNodeShape {
  id: string;
  kind: string;
  liveness: string;
  status: string;
  value: unknown;
  health: z.infer<typeof Health>;
  reason: string;
  restarts: number;
  lastError?: string | undefined;
  critical?: boolean | undefined;
  context?: unknown;
  children: ActorNodeShape[];
}
export const ActorNodeSchema: z.ZodType<ActorNodeShape> = z.looseObject({
  id: z.string().describe('kind:key, the XState systemId'),
  kind: z.string(),
  liveness: z.string().describe('root, running, backoff, stopped, removed'),
  status: z.string(),
  value: z.unknown().describe('the XState state value'),
  health: Health,
  reason: z.string(),
  restarts: z.number().int(),
  lastError: z.string().optional(),
  critical: z.boolean().optional(),
  context: z.unknown().optional().describe('with ?context=true: a size-capped JSON copy of the context'),
  get children() {
    return z.array(ActorNodeSchema);
  },
});

const Order = z.looseObject({
  clientOrderId: z.string(),
  venue: z.string(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  strategy: z.string(),
  status: z.string(),
  amount: z.number(),
  filled: z.number(),
  averagePrice: z.number().nullable(),
  quote: z.number(),
  venueOrderId: z.string().nullable(),
  reason: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  slippage: z
    .looseObject({
      decisionMid: z.number().describe('mid when the decision was made'),
      sendMid: z.number().nullable().describe('mid when the order was handed to the venue'),
      averagePrice: z.number(),
      decisionBps: z.number().describe('average fill against decisionMid, bps, positive = cost'),
      sendBps: z.number().nullable().describe('average fill against sendMid, bps, positive = cost'),
      liquidity: z.enum(['maker', 'taker']),
    })
    .nullable()
    .optional()
    .describe("a filled order's slippage (order_slippage_bps observes sendBps); null until measured"),
  execution: z.string().optional().describe('post_only: a live maker order (MAKER_MODE=live)'),
});
const Breaker = z.looseObject({
  id: z.string(),
  tripped: z.boolean(),
  reason: z.string(),
  since: z.number().nullable(),
});
const Weights = z
  .looseObject({ weights: z.record(z.string(), z.number()), raw: z.record(z.string(), z.number()) })
  .describe('the blended weights in force and the file as written');
const Guard = z.looseObject({
  id: z.string(),
  kind: z.string(),
  venue: z.string(),
  running: z.boolean(),
  active: z.boolean(),
  health: Health,
  reason: z.string(),
  state: z.record(z.string(), z.unknown()),
});
const Executor = z
  .looseObject({
    enabled: z.boolean(),
    running: z.boolean(),
    stopped: z.boolean(),
    dryRun: z.boolean(),
    health: Health,
    reason: z.string(),
    rebalances: z.number(),
    failures: z.number(),
    attempt: z.number(),
    lastError: z.string().nullable(),
  })
  .describe('the executor as it is now');
const Score = z.looseObject({
  symbol: z.string(),
  score: z.number(),
  volume: z.number(),
  volatility: z.number(),
  trend: z.number(),
});
const Probe = (description: string) =>
  z.looseObject({ ok: z.boolean(), health: Health.optional(), reason: z.string().optional() }).describe(description);

/** What `GET /inspect/machines` answers: every machine kind's definition, as the inspector draws it. */
export const MachineDefinitionsSchema = z
  .looseObject({
    machines: z.record(z.string(), z.unknown()),
    actors: z.record(z.string(), z.string()).describe('actor id → key in machines'),
  })
  .describe('the statechart of every machine kind (states, regions, transitions with events and guards)');

const HealthEntry = z.looseObject({
  ts: z.number(),
  id: z.string(),
  from: Health.nullable(),
  to: Health,
  reason: z.string(),
});

const TransitionEntry = z.looseObject({
  ts: z.number(),
  event: z.string().describe('the event the actor received (start or resume when it was spawned)'),
  from: z.unknown().describe('the XState state value before (null at start)'),
  to: z.unknown().describe('the XState state value after'),
});

type Responses = Record<number, z.ZodType>;

/** Success (and non-error) answers per route, keyed `METHOD url`. */
export const ROUTE_RESPONSES: Record<string, Responses> = {
  'GET /readyz': {
    200: z.looseObject({ ready: z.literal(true) }).describe('boot recovery has finished'),
    503: z
      .looseObject({ ready: z.literal(false), reason: z.string() })
      .describe('boot recovery in progress (Retry-After: 1)')
      .meta({ examples: [{ ready: false, reason: 'boot recovery in progress' }] }),
  },
  'GET /healthz': {
    200: z
      .looseObject({ alive: z.literal(true), health: Health, reason: z.string() })
      .describe('the event loop answers; health is information'),
  },
  'GET /health': {
    200: Probe('healthy or degraded (ok: true, with the reason)'),
    503: Probe('HALTED, or the service is not running (ok: false)').meta({
      examples: [{ ok: false, health: 'HALTED', reason: 'breaker:equity: equity floor breached' }],
    }),
  },
  'GET /status': {
    200: z
      .looseObject({
        trading_enabled: z.boolean().describe('true only while global trading is ACTIVE'),
        trading_state: TradingState,
        governance: Governance,
        health: z.looseObject({ value: Health, reason: z.string() }),
        ready: z.boolean(),
        snapshot_loaded: z.boolean(),
        balances: z.unknown().optional(),
      })
      .describe('trading state, governance per scope, health and account fields'),
  },
  'GET /metrics': { 200: z.string().describe('Prometheus exposition format') },
  'POST /kill': {
    200: z
      .looseObject({
        trading_enabled: z.boolean(),
        trading_state: TradingState,
        target: z.looseObject({
          scope: z.enum(['global', 'venue', 'symbol']),
          key: z.string().nullable(),
          state: TradingState,
        }),
        governance: Governance,
        audit: AuditRef,
      })
      .describe('the new trading state, durable in LMDB and audited'),
  },
  'GET /audit': {
    200: z
      .looseObject({
        records: z.array(
          z.looseObject({
            seq: z.number(),
            ts: z.number(),
            actor: z.string(),
            action: z.string(),
            result: z.string(),
            prevHash: z.string(),
            hash: z.string(),
          }),
        ),
      })
      .describe('the hash-chained operator log, newest first'),
  },
  'GET /strategy/weights': { 200: Weights },
  'POST /strategy/weights': { 200: Weights },
  'POST /backup': {
    200: z
      .looseObject({ db: z.looseObject({ path: z.string(), bytes: z.number() }), at: z.number() })
      .describe('where the consistent LMDB copy was written'),
  },
  'GET /actors': { 200: ActorNodeSchema.describe('the live actor tree from the root') },
  'GET /actors/:id': { 200: ActorNodeSchema.describe('one actor and its supervised children') },
  'POST /actors/:id/events': {
    202: z
      .looseObject({ accepted: z.literal(true), id: z.string(), type: z.string(), audit: AuditRef })
      .describe('delivered to the actor (or its supervisor), audited'),
  },
  'POST /orders': {
    201: z.looseObject({ status: z.literal('accepted'), order: Order }).describe('accepted by the venue'),
    202: z
      .looseObject({ status: z.literal('unknown'), reason: z.string(), message: z.string(), order: Order })
      .describe('outcome unknown: resolved by clientOrderId, never re-sent'),
    422: z
      .looseObject({
        error: z.looseObject({ code: z.literal('ORDER_REJECTED'), message: z.string() }),
        reason: z.string(),
        order: Order.nullable(),
      })
      .describe('refused by a rail or the venue (reason says which)')
      .meta({
        examples: [
          {
            error: { code: 'ORDER_REJECTED', message: 'trading is HALTED' },
            reason: 'trading_halted',
            order: null,
          },
        ],
      }),
  },
  'GET /orders': { 200: z.looseObject({ orders: z.array(Order) }).describe('newest first') },
  'GET /state': {
    200: z.record(z.string(), z.unknown()).describe('the ledger portfolio: equity, cash, positions per venue'),
  },
  'POST /reconcile/manual': {
    200: z
      .looseObject({
        fills_applied: z.number(),
        venues: z.record(
          z.string(),
          z.looseObject({
            fillsApplied: z.number(),
            ordersResolved: z.number(),
            ordersAdopted: z.number(),
            mismatches: z.array(z.string()),
            error: z.string().optional(),
          }),
        ),
        at: z.number(),
      })
      .describe('fills applied per venue; idempotent'),
  },
  'GET /breakers': { 200: z.looseObject({ breakers: z.array(Breaker) }).describe('every breaker and whether tripped') },
  'POST /breakers/:id/reset': { 200: z.looseObject({ breaker: Breaker }).describe('the breaker after the reset') },
  'GET /maker': {
    200: z
      .looseObject({
        modes: z.looseObject({ spot: z.enum(['off', 'shadow', 'live']), perp: z.enum(['off', 'shadow', 'live']) }),
        timeoutSec: z.number().describe('MAKER_TIMEOUT_SEC'),
        shadow: z.looseObject({
          summary: z.array(
            z.looseObject({
              venue: z.string(),
              market: z.enum(['spot', 'perp']),
              orders: z.number().int().describe('taker orders given a shadow post-only alternative (since boot)'),
              filled: z.number().int(),
              fillRate: z.number().describe('filled / orders, queue-aware (behind the size shown at the touch)'),
              fillRateAtTouch: z
                .number()
                .describe('orders a print reached at or through the post price / orders (the optimistic bound)'),
              meanImprovementBps: z.number().nullable().describe('post price vs the taker fill, bps, + = better'),
              meanAdverseBps: z.number().nullable().describe('mid move against the position after the fill, bps'),
              missed: z.number().int(),
              meanMissedCostBps: z.number().nullable().describe('price at the timeout vs the taker fill, bps'),
            }),
          ),
          pending: z.array(
            z.looseObject({
              clientOrderId: z.string(),
              postPrice: z.number().nullable(),
              filled: z.boolean(),
              endsAt: z.number(),
              afterTradeId: z.number().nullable().optional().describe('prints above this trade id count'),
              queueAhead: z.number().nullable().optional().describe('size shown at the post price when it opened'),
              printedAtPrice: z.number().optional().describe('volume printed at exactly the post price since'),
            }),
          ),
          recent: z.array(z.looseObject({ clientOrderId: z.string() })).describe('the last 50 shadow results'),
          tapes: z
            .array(
              z.object({
                venue: z.string(),
                market: z.enum(['spot', 'perp']),
                symbols: z.array(z.string()),
                stream: z.string(),
              }),
            )
            .optional()
            .describe("where the shadow's trade prints come from: the trade stream's state (none: REST only)"),
        }),
        live: z.looseObject({
          resting: z.array(z.string()).describe('clientOrderIds of maker orders resting now'),
          outcomes: z
            .record(z.string(), z.number())
            .describe('filled, timeout_taker, timeout_cancelled, rejected_taker, killed'),
        }),
      })
      .describe('maker mode: modes, shadow KPIs per venue and market, live maker outcomes (since boot)'),
  },
  'GET /guards/stops': { 200: GuardsStopsResponse },
  'POST /strategy/auto-tune/reset': { 200: z.looseObject({ reset: z.boolean() }).describe('auto-tune state cleared') },
  'GET /golive': { 200: GoLiveResponse },
  'GET /guards': { 200: z.looseObject({ guards: z.array(Guard) }).describe('every money guard with its state') },
  'POST /guards/depeg/rearm': { 200: z.looseObject({ guard: Guard }).describe('the depeg guard, re-armed') },
  'POST /events/external': {
    202: z.looseObject({ accepted: z.literal(true), id: z.string() }).describe('published onto events.external_feed'),
  },
  'POST /scanner/rescan': {
    200: z
      .looseObject({
        enabled: z.boolean(),
        passAt: z.number().nullable(),
        passes: z.number(),
        shortlist: z.record(z.string(), z.array(z.string())),
      })
      .describe('a fresh scanner pass and the shortlist per venue'),
  },
  'GET /executor': { 200: Executor },
  'POST /executor/stop': { 200: Executor },
  'POST /executor/start': { 200: Executor },
  'GET /inspector': { 200: z.string().describe('the inspector page (text/html)') },
  'GET /inspect/stream': {
    200: z.string().describe('Server-Sent Events: tree, nodes, event (text/event-stream)'),
  },
  'GET /inspect/machines': { 200: MachineDefinitionsSchema },
  'GET /inspect/actors/:id/history': {
    200: z
      .looseObject({
        id: z.string(),
        health: z.array(HealthEntry).describe('health edges of the last hour, oldest first'),
        transitions: z
          .array(TransitionEntry)
          .describe('the last 50 changes of active states since boot, oldest first (events handled in place: none)'),
      })
      .describe("an actor's health history (the inspector's strip) and its last transitions")
      .meta({
        examples: [
          {
            id: 'governance',
            health: [
              { ts: 1765000000000, id: 'governance', from: null, to: 'OK', reason: '' },
              { ts: 1765000600000, id: 'governance', from: 'OK', to: 'HALTED', reason: 'trading_halted: ops pause' },
            ],
            transitions: [
              { ts: 1765000000000, event: 'start', from: null, to: { health: 'OK', trading: {} } },
              {
                ts: 1765000600000,
                event: 'gov.set',
                from: { health: 'OK', trading: {} },
                to: { health: 'HALTED', trading: {} },
              },
            ],
          },
        ],
      }),
  },
  'GET /inspect/assets/elk.js': { 200: z.string().describe('the graph-layout library (elkjs), served locally') },
  'GET /universe': {
    200: z
      .looseObject({
        venues: z.record(z.string(), z.array(z.looseObject({ symbol: z.string() }))),
        counts: z.record(z.string(), z.number()),
      })
      .describe('tradable markets and their filters per venue'),
  },
  'GET /scan': {
    200: z
      .looseObject({
        enabled: z.boolean(),
        passAt: z.number().nullable(),
        passes: z.number(),
        venues: z.record(z.string(), z.looseObject({ shortlist: z.array(z.string()), scores: z.array(Score) })),
      })
      .describe('the last scanner pass: scores and shortlist per venue'),
  },
  'GET /situations': {
    200: z
      .looseObject({
        count: z.number(),
        situations: z.array(
          z.looseObject({
            id: z.string(),
            kind: z.string(),
            state: z.string(),
            reason: z.string(),
            since: z.number(),
            whatToDo: z.string(),
          }),
        ),
      })
      .describe('active incidents, with since-when and what to do'),
  },
};

/** Codes a route answers beyond those its shape implies (input, auth, idempotency, not ready). */
const ROUTE_ERRORS: Record<string, readonly ErrorCode[]> = {
  'GET /actors/:id': ['NOT_FOUND'],
  'POST /actors/:id/events': ['NOT_FOUND', 'BAD_REQUEST', 'ACTOR_UNAVAILABLE'],
  'GET /inspect/actors/:id/history': ['NOT_FOUND'],
  'POST /orders': ['VENUE_REJECTED', 'VENUE_UNAVAILABLE', 'CONFLICT'],
  'POST /reconcile/manual': ['VENUE_UNAVAILABLE', 'CONFLICT'],
  'POST /breakers/:id/reset': ['NOT_FOUND', 'CONFLICT'],
  'POST /guards/depeg/rearm': ['CONFLICT'],
  'POST /executor/stop': ['CONFLICT'],
  'POST /executor/start': ['CONFLICT'],
  'POST /strategy/weights': ['UNPROCESSABLE'],
  'POST /events/external': ['UNAUTHORIZED', 'CONFLICT', 'PAYLOAD_TOO_LARGE'],
  'GET /universe': ['RATE_LIMITED'],
  'GET /scan': ['RATE_LIMITED'],
};

const EXAMPLE_MESSAGE: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'body/enabled: Invalid input: expected boolean, received string',
  BAD_REQUEST: 'request body is not valid JSON',
  IDEMPOTENCY_KEY_REQUIRED: 'Idempotency-Key header is required',
  UNAUTHORIZED: 'missing X-Ops-Token header',
  NOT_FOUND: "no actor 'conn:nowhere'",
  CONFLICT: 'the request conflicts with the current state',
  IDEMPOTENCY_IN_FLIGHT: 'a request with this Idempotency-Key is still running; retry',
  PAYLOAD_TOO_LARGE: 'request body is larger than 65536 bytes',
  UNSUPPORTED_MEDIA_TYPE: 'content-type must be application/json',
  IDEMPOTENCY_MISMATCH: 'Idempotency-Key was already used with a different request',
  RATE_LIMITED: 'rate limit: 20 requests, then 5/s per client',
  NOT_READY: 'the trading pipeline is not running',
  ACTOR_UNAVAILABLE: "'feed:binance' is restarting; retry",
  STORE_FAILED: 'the LMDB commit failed; nothing was applied',
  VENUE_REJECTED: 'binance: insufficient balance',
  VENUE_UNAVAILABLE: 'binance: exchange not available',
  UNPROCESSABLE: 'weights must sum to a positive number',
  INTERNAL: 'internal error',
};

export interface RouteShape {
  method: string;
  url: string;
  hasInput: boolean;
  hasBody: boolean;
  command: boolean;
}

/** The catalogue codes a route can answer: from its shape (input, command) plus its own list. */
export function errorCodesOf(r: RouteShape): ErrorCode[] {
  const codes = new Set<ErrorCode>(['INTERNAL', 'NOT_READY']);
  if (r.hasInput) codes.add('VALIDATION_FAILED');
  if (r.hasBody) for (const c of ['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const) codes.add(c);
  if (r.command)
    for (const c of ['UNAUTHORIZED', 'IDEMPOTENCY_IN_FLIGHT', 'IDEMPOTENCY_MISMATCH', 'STORE_FAILED'] as const)
      codes.add(c);
  for (const c of ROUTE_ERRORS[`${r.method} ${r.url}`] ?? []) codes.add(c);
  return [...codes];
}

/** One schema per error status: `{"error":{"code","message"}}` with the codes it may carry and one example each. */
export function errorResponses(codes: readonly ErrorCode[]): Responses {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) {
    const s = ERROR_CODES[c].status;
    byStatus.set(s, [...(byStatus.get(s) ?? []), c]);
  }
  const out: Responses = {};
  for (const [status, list] of byStatus) {
    const retryable = list.filter((c) => ERROR_CODES[c].retryable);
    out[status] = z
      .strictObject({
        error: z.strictObject({ code: z.enum(list as [ErrorCode, ...ErrorCode[]]), message: z.string() }),
      })
      .describe(
        `${list.join(', ')}${retryable.length > 0 ? ` (retryable: ${retryable.join(', ')})` : ''}: {"error":{"code","message"}}`,
      )
      .meta({
        'x-examples': Object.fromEntries(
          list.map((c) => [c, { value: { error: { code: c, message: EXAMPLE_MESSAGE[c] ?? c.toLowerCase() } } }]),
        ),
      });
  }
  return out;
}

/** Routes that answer something other than JSON. */
const PRODUCES: Record<string, string[]> = {
  'GET /metrics': ['text/plain; version=0.0.4'],
  'GET /inspector': ['text/html'],
  'GET /inspect/stream': ['text/event-stream'],
  'GET /inspect/assets/elk.js': ['text/javascript'],
};

/** The part of Fastify's route options this reads and completes (its `onRoute` argument). */
export interface RouteOptionsLike {
  method: string | string[];
  url: string;
  schema?: Record<string, unknown> | undefined;
  config?: unknown;
}

/**
 * `onRoute`: gives a route its documented answers (success from `ROUTE_RESPONSES`, errors from the catalogue).
 * Hidden routes (the docs themselves) are left alone; a route missing from the table gets only its error answers,
 * which the docs test reports.
 */
export function withResponseSchemas(route: RouteOptionsLike): void {
  const schema = route.schema ?? {};
  if (schema.hide === true) return;
  const method = [route.method].flat().find((m) => m !== 'HEAD') ?? 'GET';
  const key = `${method} ${route.url}`;
  const shape: RouteShape = {
    method,
    url: route.url,
    hasInput: Boolean(schema.params || schema.querystring || schema.body),
    hasBody: method !== 'GET',
    command: typeof (route.config as { command?: unknown } | undefined)?.command === 'string',
  };
  route.schema = {
    ...schema,
    response: { ...errorResponses(errorCodesOf(shape)), ...ROUTE_RESPONSES[key] },
    ...(PRODUCES[key] ? { produces: PRODUCES[key] } : {}),
  };
}
