/**
 * ccxt raises nothing on an HTTP 200 whose body is not JSON (reference §3): it hands the text back and its
 * parsers turn it into an empty balance, an empty order list or an order with `id: undefined`. Binance and
 * Kraken answer every REST call with a JSON object or array, so anything else is refused right at the
 * transport — per request, hence race-free, unlike reading `last_json_response` afterwards — and the classifier
 * makes it retryable for reads and an unknown outcome for creates.
 */
import { BadVenueResponse } from './error-classifier.js';
import type { GuardableExchange } from './loopback-guard.js';

/** Wraps `ex.fetch` so a 2xx answer that did not parse as JSON throws BadVenueResponse. */
export function installJsonGuard(ex: GuardableExchange): void {
  const original = ex.fetch.bind(ex);
  ex.fetch = async (url, method, headers, body) => {
    const parsed = await original(url, method, headers, body);
    if (parsed === null || typeof parsed !== 'object') {
      const text = typeof parsed === 'string' ? parsed.slice(0, 120) : String(parsed);
      throw new BadVenueResponse(`${ex.id} ${method ?? 'GET'} ${url}: answer is not JSON: ${JSON.stringify(text)}`);
    }
    return parsed;
  };
}
