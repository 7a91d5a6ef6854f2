/**
 * ccxt.pro's `watchMultiple` sends a throttled subscription as `client.throttle(cost).then(() => { client.send(m) })`
 * and drops the send's promise: a connection that starts closing during the throttle's wait rejects it with nobody
 * listening ("WebSocket is not open: readyState 2 (CLOSING)"). The connection's close rejects the subscription's own
 * future and the stream's loop starts a fresh session (symbol-stream.ts), or its silence watch does: the dropped
 * rejection carries nothing left to act on. Seen with 1,000 Kraken symbols (test/long/thousand-symbols.test.ts,
 * where many subscriptions wait in the throttle): main.ts's unhandled-rejection handler took it as fatal and the
 * process exited. Only this exact shape is excused; any other unhandled rejection stays fatal.
 */
export function isCcxtDroppedSend(e: unknown): boolean {
  return (
    e instanceof Error &&
    /^WebSocket is not open: readyState [23] \((CLOSING|CLOSED)\)$/.test(e.message) &&
    /\bWsClient\.send\b/.test(e.stack ?? '')
  );
}
