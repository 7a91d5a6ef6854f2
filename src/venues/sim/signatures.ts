/**
 * Request signature checks, over the raw bytes as sent (never re-encoded parameters):
 * - Binance: hex HMAC-SHA256(secret, totalParams) where totalParams = raw query ‖ raw body minus the trailing
 *   `signature=` parameter.
 * - Kraken: base64 HMAC-SHA512(base64decode(secret), path ‖ SHA256(nonce ‖ raw body)).
 * The `sign*` twins exist for tests and the bench (a client that is not ccxt).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { ok: true; payload: string } | { ok: false; why: 'missing' | 'mismatch' };

const TRAILING_SIGNATURE = /(^|&)signature=([0-9a-fA-F]*)$/;

/** Splits `signature` off the end of the raw totalParams and checks it. */
export function verifyBinance(secret: string, rawQuery: string, rawBody: string): SignatureCheck {
  const total = `${rawQuery}${rawBody}`;
  const m = TRAILING_SIGNATURE.exec(total);
  if (m === null || m[2] === undefined || m[2] === '') return { ok: false, why: 'missing' };
  const payload = total.slice(0, m.index);
  const expected = createHmac('sha256', secret).update(payload).digest();
  const given = Buffer.from(m[2], 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, why: 'mismatch' };
  return { ok: true, payload };
}

/** Appends `&signature=<hex>` to a query the way Binance clients do. */
export function signBinance(secret: string, query: string): string {
  const sig = createHmac('sha256', secret).update(query).digest('hex');
  return `${query}${query === '' ? '' : '&'}signature=${sig}`;
}

/** Kraken's API-Sign for a private call. */
export function signKraken(secret: string, path: string, nonce: string, rawBody: string): string {
  const inner = createHash('sha256')
    .update(nonce + rawBody)
    .digest();
  return createHmac('sha512', Buffer.from(secret, 'base64'))
    .update(Buffer.concat([Buffer.from(path), inner]))
    .digest('base64');
}

export function verifyKraken(
  secret: string,
  path: string,
  nonce: string,
  rawBody: string,
  apiSign: string | undefined,
): boolean {
  if (apiSign === undefined || apiSign === '') return false;
  const expected = Buffer.from(signKraken(secret, path, nonce, rawBody), 'base64');
  const given = Buffer.from(apiSign, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
