import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { ORDER_STATUSES } from '../machines/order.machine.js';

/**
 * The stored order record (DESIGN §5): one per clientOrderId, journaled before the first send and moved by the
 * venue's answers. Every writer builds it through this type and `OrdersStore.put` parses it; every record read
 * back from LMDB is parsed too, so a field nobody declared never reaches the order path. Strict: a record with a
 * field this version does not know was not written by it, and is refused rather than silently trimmed.
 */

/** The venue order types a record can carry (the venue gateway's, plus `other` for an adopted order it cannot name). */
const ORDER_TYPES = [
  'market',
  'limit',
  'stop_loss',
  'stop_loss_limit',
  'take_profit',
  'take_profit_limit',
  'other',
] as const;

const finite = z.number();

/** A filled order's slippage against its arrival prices (engine/slippage.ts), once it is known. */
export const orderSlippageSchema = z.strictObject({
  decisionMid: finite,
  sendMid: finite.nullable(),
  averagePrice: finite,
  decisionBps: finite,
  sendBps: finite.nullable(),
  liquidity: z.enum(['maker', 'taker']),
});

export const orderRecordSchema = z.strictObject({
  clientOrderId: z.string().min(1),
  venue: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  /** Who asked: a strategy's name, `operator`, `executor`, a guard, or `external` (adopted from the venue). */
  strategy: z.string().min(1),
  status: z.enum(ORDER_STATUSES),
  type: z.enum(ORDER_TYPES),
  /** Base amount, snapped to the market's step (what was sent). */
  amount: finite,
  filled: finite,
  averagePrice: finite.nullable(),
  /** The quote notional asked for. */
  quote: finite,
  venueOrderId: z.string().nullable(),
  /** Why it was placed, then why it ended when it did not fill (a rail, the venue's reject, `not_at_venue`). */
  reason: z.string(),
  createdAt: finite,
  updatedAt: finite,
  /** Limit price as sent (tick-rounded); null for a market order. Absent on adopted orders. */
  limitPrice: finite.nullable().optional(),
  /** The price the intent was sized at. */
  price: finite.optional(),
  /** Arrival prices (slippage.ts): the mid at the decision and at the hand-off to the venue. */
  decisionMid: finite.optional(),
  sendMid: finite.optional(),
  reduceOnly: z.boolean().optional(),
  /** Lowers exposure (reduce-only, or a spot sell of what is held): passes REDUCING, reserves nothing. */
  reduces: z.boolean().optional(),
  /** Absent for spot; `linear` for a perpetual. */
  market: z.enum(['spot', 'linear']).optional(),
  postOnly: z.boolean().optional(),
  /** A taker fallback: the clientOrderId of the maker order it replaces. */
  makerOf: z.string().optional(),
  /** The operator's Idempotency-Key and request hash, committed with the intent. */
  idempotencyKey: z.string().optional(),
  requestHash: z.string().optional(),
  /** A limit order the venue booked without a fill (its fills are maker fills). */
  restedBeforeFill: z.boolean().optional(),
  /**
   * When Bosun first recorded an order it found at the venue rather than placed from this store (adopted, or the
   * earlier order of an Idempotency-Key this store did not know): its trades up to the venue's first-boot baseline
   * are in that baseline, never applied again.
   */
  adoptedAt: finite.optional(),
  /** When an unknown create was sent (its resolution window at the venue). */
  sentAt: finite.optional(),
  slippage: orderSlippageSchema.optional(),
});

export type OrderRecord = z.infer<typeof orderRecordSchema>;
export type OrderStatus = OrderRecord['status'];

/** One zod issue as a line: `status: Invalid option …`. */
function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(record)'}: ${i.message}`)
    .join('; ');
}

/** A record as it is to be written: refused (VALIDATION_FAILED, naming the field) unless it is an OrderRecord. */
export function checkOrderRecord(value: unknown): OrderRecord {
  const r = orderRecordSchema.safeParse(value);
  if (r.success) return r.data;
  const key = (value as { clientOrderId?: unknown } | null)?.clientOrderId;
  throw new AppError(
    'VALIDATION_FAILED',
    `order record ${JSON.stringify(key)} is not an order record: ${describe(r.error)}`,
  );
}

/**
 * A record read back from LMDB under `key`. One that does not parse (or is filed under another key) is refused
 * with an error naming the key: the order path never runs on a record it cannot read (fail closed).
 */
export function readOrderRecord(key: string, value: unknown): OrderRecord {
  const r = orderRecordSchema.safeParse(value);
  const problem = !r.success
    ? describe(r.error)
    : r.data.clientOrderId !== key
      ? `filed under another clientOrderId (${r.data.clientOrderId})`
      : null;
  if (problem === null && r.success) return r.data;
  throw new AppError('STORE_FAILED', `stored order record ${JSON.stringify(key)} cannot be read: ${problem}`);
}
