import { describe, expect, it } from 'vitest';
import { BadVenueResponse } from './error-classifier.js';
import type { GuardableExchange } from './loopback-guard.js';
import { installJsonGuard } from './response-guard.js';

function fakeExchange(answer: unknown): GuardableExchange {
  return { id: 'fake', fetch: async () => answer };
}

describe('installJsonGuard', () => {
  it.each([['<html>502</html>'], [''], ['{"truncated":'], [undefined]])(
    'refuses the non-JSON answer %j',
    async (answer) => {
      const ex = fakeExchange(answer);
      installJsonGuard(ex);
      await expect(ex.fetch('http://127.0.0.1:1/api/v3/account', 'GET')).rejects.toBeInstanceOf(BadVenueResponse);
    },
  );

  it.each([[{ balances: [] }], [[]], [{ error: [], result: {} }]])(
    'passes the JSON answer %j through',
    async (answer) => {
      const ex = fakeExchange(answer);
      installJsonGuard(ex);
      await expect(ex.fetch('http://127.0.0.1:1/x')).resolves.toBe(answer);
    },
  );
});
