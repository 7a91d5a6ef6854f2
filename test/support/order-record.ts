import type { OrderRecord } from '../../src/store/index.js';

/** A complete order record as the order path journals an intent, with the fields a test cares about replaced. */
export function orderRecord(over: Partial<OrderRecord> & Pick<OrderRecord, 'clientOrderId'>): OrderRecord {
  return {
    venue: 'binance',
    symbol: 'BTC/USDT',
    side: 'buy',
    strategy: 'operator',
    status: 'intent',
    type: 'market',
    amount: 0.001,
    filled: 0,
    averagePrice: null,
    quote: 50,
    venueOrderId: null,
    reason: 'test',
    createdAt: 1_000,
    updatedAt: 1_000,
    ...over,
  };
}
