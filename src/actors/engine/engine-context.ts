import type { OrderRecord } from '../../store/index.js';
import type { MarketInfo, MarketKind } from '../../venues/venue-gateway.js';
import { createExposureView, type ExposureView } from '../exposure-view.js';
import { realSleep, type Sleep } from '../retry.js';
import type { EngineVenue, TradingEngineDeps } from './engine-types.js';
import { createFillCommits, type FillCommits } from './fill-commits.js';
import { createOrderSlots, type OrderSlots } from './order-slots.js';
import { createPriceBook, type PriceBook } from './price-book.js';

/**
 * The state the parts of the order path share, built once per engine: the venues, the price book, the slots and
 * reservations, the risk view, the creates on the wire and the kill's pending cancels. Each part (submit,
 * lifecycle, reconciliation, sizing, halt/cancel) is a factory over this context, so each can be read and tested
 * alone; `trading-engine.ts` assembles them.
 */
export interface EngineContext {
  deps: TradingEngineDeps;
  venues: Map<string, EngineVenue>;
  market(venue: string, symbol: string, kind?: MarketKind): MarketInfo | undefined;
  prices: PriceBook;
  slots: OrderSlots;
  /** Sizing and the exposure rails read this on every signal (see riskView). */
  riskView(): ExposureView;
  /** Moves the risk view by a fill the ledger just applied. */
  noteFill: ExposureView['applyFill'];
  sleep: Sleep;
  state: { accepting: boolean };
  /** Creates handed to a venue and not yet answered, by clientOrderId. */
  handoffs: Map<string, Promise<unknown>>;
  /** Orders a kill asked to cancel while their create was on the wire: cancelled as soon as it is answered. */
  cancelOnAck: Set<string>;
  /** Fills applied and not yet durable: a second copy waits for the first one's commit (fill-commits.ts). */
  fillCommits: FillCommits;
  /** Settlement by the user-data stream (stream-settlement.ts), set once the engine is assembled. */
  stream?: {
    settled(rec: OrderRecord): Promise<OrderRecord | undefined>;
    forget(clientOrderId: string): void;
  };
  /** Called with every order once it is settled (terminal, fills in the ledger): the maker shadow listens. */
  onSettled: Array<(rec: OrderRecord) => void>;
  /** Called with every order just before its create is handed to the venue (maker shadow opens its alternative). */
  onSend: Array<(rec: OrderRecord) => void>;
}

export function createEngineContext(deps: TradingEngineDeps): EngineContext {
  const venues = new Map(deps.venues.map((v) => [v.id as string, v]));
  const prices = createPriceBook(venues, deps.now);
  /**
   * A full valuation at the latest prices at most every 250 ms, moved by every fill in between (exposure-view.ts):
   * exact quantities without an O(assets) revaluation per order.
   */
  const view = createExposureView();
  let viewAt = Number.NEGATIVE_INFINITY;
  return {
    deps,
    venues,
    market: (venue, symbol, kind = 'spot') => venues.get(venue)?.gateway.markets(kind)[symbol],
    prices,
    slots: createOrderSlots(),
    riskView() {
      const t = deps.now();
      if (t - viewAt >= 250) {
        const px = prices.assetPrices();
        view.reset(deps.book.valuation(px), px);
        viewAt = t;
      }
      return view;
    },
    noteFill(fill) {
      // The ledger already holds it; a view not yet built starts from the ledger, so it must not count it twice.
      if (viewAt > Number.NEGATIVE_INFINITY) view.applyFill(fill);
    },
    sleep: deps.sleep ?? realSleep,
    state: { accepting: false },
    handoffs: new Map(),
    cancelOnAck: new Set(),
    fillCommits: createFillCommits(),
    onSettled: [],
    onSend: [],
  };
}
