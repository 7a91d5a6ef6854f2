import { assign, setup } from 'xstate';

/**
 * The order lifecycle (issue 4 item 7): intent → submitted → acknowledged → partially_filled → filled /
 * cancelled / rejected, with `unknown` for a create whose outcome the venue did not tell (DESIGN §5: unknown is not
 * failed; it is resolved by looking the clientOrderId up, never by re-sending).
 *
 * One table drives both the XState machine (for the inspector, diagrams and model tests) and `orderTransition`,
 * the O(1) reducer the engine applies to thousands of orders without spawning an actor per order. An event that
 * is not valid in a state changes nothing and never throws; filled never decreases and never exceeds the amount.
 */
export const ORDER_STATUSES = [
  'intent',
  'submitted',
  'acknowledged',
  'partially_filled',
  'unknown',
  'filled',
  'cancelled',
  'rejected',
] as const;
export type OrderStatusName = (typeof ORDER_STATUSES)[number];
export const TERMINAL: ReadonlySet<string> = new Set(['filled', 'cancelled', 'rejected']);

export type OrderEvent =
  | { type: 'SENT' }
  | { type: 'ABANDON' }
  | { type: 'ACK' }
  | { type: 'REJECT' }
  | { type: 'UNKNOWN' }
  | { type: 'FILL'; filled: number }
  | { type: 'CANCELLED' }
  | { type: 'EXPIRED' }
  | { type: 'RESOLVED_FOUND'; status: OrderStatusName; filled: number }
  | { type: 'RESOLVED_NOT_FOUND' };

type Simple = Exclude<OrderEvent['type'], 'FILL' | 'RESOLVED_FOUND'>;

/** Targets of the simple events, per state. FILL and RESOLVED_FOUND carry data and are handled below. */
const TABLE: Record<OrderStatusName, Partial<Record<Simple, OrderStatusName>>> = {
  intent: { SENT: 'submitted', ABANDON: 'rejected' },
  submitted: { ACK: 'acknowledged', REJECT: 'rejected', UNKNOWN: 'unknown' },
  acknowledged: { CANCELLED: 'cancelled', EXPIRED: 'cancelled', REJECT: 'rejected' },
  partially_filled: { CANCELLED: 'cancelled', EXPIRED: 'cancelled' },
  unknown: { RESOLVED_NOT_FOUND: 'rejected' },
  filled: {},
  cancelled: {},
  rejected: {},
};

const FILLABLE: ReadonlySet<OrderStatusName> = new Set(['acknowledged', 'partially_filled']);
const RESOLVABLE: ReadonlySet<OrderStatusName> = new Set(['acknowledged', 'partially_filled', 'filled', 'cancelled']);

export interface OrderStep {
  status: OrderStatusName;
  filled: number;
  changed: boolean;
}

const clampFill = (f: number, amount: number) => (Number.isFinite(f) ? Math.min(Math.max(f, 0), amount) : 0);

/** The pure reducer: next status and cumulative filled amount. */
export function orderTransition(status: OrderStatusName, filled: number, amount: number, e: OrderEvent): OrderStep {
  const same = { status, filled, changed: false };
  if (e.type === 'FILL') {
    if (!FILLABLE.has(status)) return same;
    const f = clampFill(e.filled, amount);
    if (f <= filled) return same;
    return { status: f >= amount ? 'filled' : 'partially_filled', filled: f, changed: true };
  }
  if (e.type === 'RESOLVED_FOUND') {
    if (status !== 'unknown' || !RESOLVABLE.has(e.status)) return same;
    const f = clampFill(e.filled, amount);
    const next = e.status === 'acknowledged' && f > 0 ? (f >= amount ? 'filled' : 'partially_filled') : e.status;
    return { status: next, filled: f, changed: true };
  }
  const target = TABLE[status][e.type];
  return target === undefined ? same : { status: target, filled, changed: true };
}

/** Maps a venue's order status (VenueGateway `Order.status`) to the lifecycle. */
export function statusFromVenue(
  venueStatus: 'open' | 'closed' | 'canceled' | 'expired' | 'rejected',
  filled: number,
  amount: number,
): OrderStatusName {
  switch (venueStatus) {
    case 'open':
      return filled > 0 ? 'partially_filled' : 'acknowledged';
    case 'closed':
      return filled >= amount || filled > 0 ? 'filled' : 'cancelled';
    case 'canceled':
    case 'expired':
      return 'cancelled';
    case 'rejected':
      return 'rejected';
  }
}

type Ctx = { filled: number; amount: number };

/** The same lifecycle as an XState machine (guards read the reducer, so the two cannot disagree). */
export const orderMachine = setup({
  types: {} as { context: Ctx; events: OrderEvent; input: { amount: number } },
  guards: {
    /** True when the reducer moves from `from` to `to` on this event. */
    moves: ({ context, event }, p: { from: OrderStatusName; to: OrderStatusName }) => {
      const r = orderTransition(p.from, context.filled, context.amount, event);
      return r.changed && r.status === p.to;
    },
    /** True when the reducer stays in `from` but raises the fill. */
    grows: ({ context, event }, p: { from: OrderStatusName }) => {
      const r = orderTransition(p.from, context.filled, context.amount, event);
      return r.changed && r.status === p.from;
    },
  },
  actions: {
    apply: assign(({ context, event }, p: { from: OrderStatusName }) => ({
      filled: orderTransition(p.from, context.filled, context.amount, event).filled,
    })),
  },
}).createMachine({
  id: 'order',
  initial: 'intent',
  context: ({ input }) => ({ filled: 0, amount: input.amount }),
  states: Object.fromEntries(
    ORDER_STATUSES.map((from) => {
      const types: OrderEvent['type'][] = [
        'SENT',
        'ABANDON',
        'ACK',
        'REJECT',
        'UNKNOWN',
        'FILL',
        'CANCELLED',
        'EXPIRED',
        'RESOLVED_FOUND',
        'RESOLVED_NOT_FOUND',
      ];
      const on = Object.fromEntries(
        types.map((t) => [
          t,
          [
            ...ORDER_STATUSES.filter((to) => to !== from).map((to) => ({
              guard: { type: 'moves' as const, params: { from, to } },
              target: to,
              actions: { type: 'apply' as const, params: { from } },
            })),
            {
              guard: { type: 'grows' as const, params: { from } },
              actions: { type: 'apply' as const, params: { from } },
            },
          ],
        ]),
      );
      return [from, TERMINAL.has(from) ? { type: 'final' as const } : { on }];
    }),
  ) as never,
});
