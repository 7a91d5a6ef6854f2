/**
 * Binance USDⓈ-M user data stream keys, as documented (derivatives/usds-margined-futures/user-data-streams):
 * - `POST /fapi/v1/listenKey` (USER_STREAM: API key, no signature) starts a stream and answers `{"listenKey"}`;
 *   with a key already active for the account it answers that key and extends it by 60 minutes.
 * - `PUT /fapi/v1/listenKey` keeps it alive another 60 minutes (`-1125 This listenKey does not exist.` without one);
 *   `DELETE` closes it. A key not kept alive expires after 60 minutes: the stream says `listenKeyExpired` and ends.
 * - The stream itself is `wss://fstream.binance.com/private/ws?listenKey=<key>` (ccxt.pro 4.5's URL), which takes
 *   no subscribe message: the connection is the subscription.
 * Weights: 1 each (the /fapi weight minute).
 */
import { randomBytes } from 'node:crypto';
import type { Account } from '../accounts.js';
import { BinanceError } from '../binance-errors.js';
import type { BinanceEndpoint } from '../binance-gate.js';

export const LISTEN_KEY_VALIDITY_MS = 60 * 60_000;

interface KeyState {
  account: Account;
  expiresAt: number;
}

export class ListenKeys {
  private readonly byKey = new Map<string, KeyState>();
  private readonly byAccount = new Map<Account, string>();
  /** Keepalives (PUT) answered, for tests and the stats route. */
  keepalives = 0;

  constructor(private readonly now: () => number) {}

  /** The account's active key (extended), or a new one. */
  issue(account: Account): string {
    const current = this.byAccount.get(account);
    if (current !== undefined && this.valid(current) !== undefined) {
      this.extend(current);
      return current;
    }
    const key = randomBytes(32).toString('base64url').slice(0, 64);
    this.byKey.set(key, { account, expiresAt: this.now() + LISTEN_KEY_VALIDITY_MS });
    this.byAccount.set(account, key);
    return key;
  }

  keepAlive(account: Account): string {
    const key = this.byAccount.get(account);
    if (key === undefined || this.valid(key) === undefined)
      throw new BinanceError(-1125, 'This listenKey does not exist.');
    this.extend(key);
    this.keepalives += 1;
    return key;
  }

  close(account: Account): void {
    const key = this.byAccount.get(account);
    if (key === undefined) return;
    this.byAccount.delete(account);
    this.byKey.delete(key);
  }

  /** The account a key streams, while the key is active. */
  valid(key: string): Account | undefined {
    const s = this.byKey.get(key);
    if (s === undefined) return undefined;
    if (s.expiresAt <= this.now()) {
      this.byKey.delete(key);
      if (this.byAccount.get(s.account) === key) this.byAccount.delete(s.account);
      return undefined;
    }
    return s.account;
  }

  /** Expires every key now (fault: what a missed keepalive does after 60 minutes). */
  expireAll(): void {
    for (const s of this.byKey.values()) s.expiresAt = this.now();
  }

  private extend(key: string): void {
    const s = this.byKey.get(key);
    if (s !== undefined) s.expiresAt = this.now() + LISTEN_KEY_VALIDITY_MS;
  }
}

/** The three USER_STREAM endpoints of /fapi/v1/listenKey. */
export function listenKeyEndpoints(keys: ListenKeys): BinanceEndpoint[] {
  const common = { path: '/fapi/v1/listenKey', weight: 1, signed: false, apiKeyOnly: true, params: [] } as const;
  return [
    { ...common, method: 'POST', run: ({ account }) => ({ listenKey: keys.issue(account!) }) },
    { ...common, method: 'PUT', run: ({ account }) => ({ listenKey: keys.keepAlive(account!) }) },
    {
      ...common,
      method: 'DELETE',
      run: ({ account }) => {
        keys.close(account!);
        return {};
      },
    },
  ];
}
