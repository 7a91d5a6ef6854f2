import { describe, expect, it } from 'vitest';
import { isCcxtDroppedSend } from './ccxt-dropped-send.js';

const withStack = (message: string, stack: string) => Object.assign(new Error(message), { stack });
const CCXT_STACK = `Error: x
    at sendAfterClose (file:///app/dist/main.bundle.mjs:10616:22)
    at _WebSocket.send (file:///app/dist/main.bundle.mjs:10211:11)
    at WsClient.send (file:///app/dist/main.bundle.mjs:110584:23)
    at file:///app/dist/main.bundle.mjs:115554:22`;

describe('isCcxtDroppedSend', () => {
  it('excuses the send ccxt.pro drops on a closing or closed connection', () => {
    expect(isCcxtDroppedSend(withStack('WebSocket is not open: readyState 2 (CLOSING)', CCXT_STACK))).toBe(true);
    expect(isCcxtDroppedSend(withStack('WebSocket is not open: readyState 3 (CLOSED)', CCXT_STACK))).toBe(true);
  });

  it('keeps everything else fatal: the same message from another caller, other errors, non-errors', () => {
    const ours = 'Error: x\n    at sendAfterClose (x.js:1:1)\n    at UserStream.send (src/venues/streams/user.ts:9:9)';
    expect(isCcxtDroppedSend(withStack('WebSocket is not open: readyState 2 (CLOSING)', ours))).toBe(false);
    expect(isCcxtDroppedSend(withStack('WebSocket is not open: readyState 0 (CONNECTING)', CCXT_STACK))).toBe(false);
    expect(isCcxtDroppedSend(withStack('store commit failed', CCXT_STACK))).toBe(false);
    expect(isCcxtDroppedSend('WebSocket is not open: readyState 2 (CLOSING)')).toBe(false);
    expect(isCcxtDroppedSend(undefined)).toBe(false);
  });
});
