/**
 * Binance error bodies `{code, msg}` with the venue's HTTP statuses and exact wording (ccxt matches several
 * messages exactly before it looks at the code, so the text matters: reference §3).
 */
import { json, type SimResponse } from './http-types.js';
import type { RejectReason } from './matching-engine.js';

export class BinanceError extends Error {
  override readonly name = 'BinanceError';
  constructor(
    readonly code: number,
    msg: string,
    readonly status = 400,
    readonly headers?: Record<string, string>,
  ) {
    super(msg);
  }

  toResponse(): SimResponse {
    return json(this.status, { code: this.code, msg: this.message }, this.headers);
  }
}

export const binanceErrors = {
  unknownKeyFormat: () => new BinanceError(-2014, 'API-key format invalid.', 401),
  invalidKey: () => new BinanceError(-2015, 'Invalid API-key, IP, or permissions for action.', 401),
  badSignature: () => new BinanceError(-1022, 'Signature for this request is not valid.'),
  tsAhead: () => new BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  tsOutside: () => new BinanceError(-1021, 'Timestamp for this request is outside of the recvWindow.'),
  recvWindow: () => new BinanceError(-1131, 'recvWindow must be less than 60000'),
  mandatory: (p: string) =>
    new BinanceError(-1102, `Mandatory parameter '${p}' was not sent, was empty/null, or malformed.`),
  notAllRead: (read: number, sent: number) =>
    new BinanceError(-1104, `Not all sent parameters were read; read '${read}' parameter(s) but was sent '${sent}'.`),
  duplicateParam: () => new BinanceError(-1101, 'Duplicate values for a parameter detected.'),
  illegalChars: (p: string) =>
    new BinanceError(
      -1100,
      `Illegal characters found in parameter '${p}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`,
    ),
  invalidSymbol: () => new BinanceError(-1121, 'Invalid symbol.'),
  invalidSide: () => new BinanceError(-1117, 'Invalid side.'),
  invalidType: () => new BinanceError(-1116, 'Invalid orderType.'),
  invalidTif: () => new BinanceError(-1115, 'Invalid timeInForce.'),
  notRequired: (p: string) => new BinanceError(-1106, `Parameter '${p}' sent when not required.`),
  bothIds: () =>
    new BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"),
  noSuchOrder: () => new BinanceError(-2013, 'Order does not exist.'),
  unknownOrder: () => new BinanceError(-2011, 'Unknown order sent.'),
  weight: (limit: number, retryAfterSec: number) =>
    new BinanceError(
      -1003,
      `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
      429,
      { 'Retry-After': String(retryAfterSec) },
    ),
  banned: (untilMs: number, retryAfterSec: number) =>
    new BinanceError(
      -1003,
      `Way too much request weight used; IP banned until ${untilMs}. Please use WebSocket Streams for live updates to avoid bans.`,
      418,
      { 'Retry-After': String(retryAfterSec) },
    ),
};

/** Spot wording of an engine rejection. */
export function spotRejection(reason: RejectReason, message: string): BinanceError {
  switch (reason) {
    case 'price_filter':
    case 'lot_size':
    case 'notional':
    case 'max_num_orders':
      return new BinanceError(-1013, message);
    case 'insufficient_balance':
      return new BinanceError(-2010, 'Account has insufficient balance for requested action.');
    case 'would_take':
      return new BinanceError(-2010, 'Order would immediately match and take.');
    case 'would_trigger':
      return new BinanceError(-2010, 'Stop price would trigger immediately.');
    case 'duplicate_client_order_id':
      return new BinanceError(-2010, 'Duplicate order sent.');
    case 'unknown_order':
      return binanceErrors.unknownOrder();
    default:
      return new BinanceError(-2010, message);
  }
}

/** USDⓈ-M wording of an engine rejection. */
export function futuresRejection(reason: RejectReason, message: string, minNotional: number): BinanceError {
  switch (reason) {
    case 'price_filter':
      return new BinanceError(-4014, 'Price not increased by tick size.');
    case 'lot_size':
      return new BinanceError(-1111, 'Precision is over the maximum defined for this asset.');
    case 'notional':
      return new BinanceError(
        -4164,
        `Order's notional must be no smaller than ${minNotional} (unless you choose reduce only).`,
      );
    case 'margin_insufficient':
    case 'insufficient_balance':
      return new BinanceError(-2019, 'Margin is insufficient.');
    case 'reduce_only_rejected':
      return new BinanceError(-2022, 'ReduceOnly Order is rejected.');
    case 'would_trigger':
      return new BinanceError(-2021, 'Order would immediately trigger.');
    case 'would_take':
      return new BinanceError(
        -5022,
        'Due to the order could not be executed as maker, the Post Only order will be rejected.',
      );
    case 'duplicate_client_order_id':
      return new BinanceError(-4116, 'ClientOrderId is duplicated.');
    case 'invalid_leverage':
      return new BinanceError(-4028, message);
    case 'max_num_orders':
      return new BinanceError(-4005, 'Quantity greater than max quantity.');
    case 'unknown_order':
      return binanceErrors.unknownOrder();
    default:
      return new BinanceError(-1000, message);
  }
}
