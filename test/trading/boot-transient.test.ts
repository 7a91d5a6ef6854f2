import { afterAll, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { getJson, startVenue, tradingEnv } from './support.js';

/**
 * First-boot recovery takes each venue's balances as the portfolio baseline. A transient venue error there (Kraken
 * `EAPI:Invalid nonce` when two private calls cross on the wire, a 5xx, a 429) used to be a startup failure (exit
 * 1); it is retried a bounded number of times like any other read, and only a persistent or fatal error stops
 * the boot.
 */
let sim: Simulator | undefined;
let bosun: BosunProcess | undefined;
afterAll(async () => {
  await bosun?.stop('SIGKILL');
  await sim?.close();
});

it('retries a transient venue error during first-boot recovery instead of failing startup', async () => {
  sim = await startVenue(31);
  const fault = sim.faults.add({
    kind: 'venue_error',
    venue: 'kraken',
    path: '/0/private/Balance',
    error: 'EAPI:Invalid nonce',
    count: 3,
  });
  bosun = await startBosun(tradingEnv(sim));
  expect(
    bosun.lines.some((l) => l.msg === 'boot recovery: transient venue error, retrying' && l.venue === 'kraken'),
  ).toBe(true);
  expect(sim.faults.list().find((f) => f.id === fault.id)).toBeUndefined();
  const state = await getJson<{ ledger: { venues: Record<string, { balances: Record<string, number> }> } }>(
    `${bosun.engine}/state`,
  );
  expect(state.ledger.venues.kraken?.balances.BTC).toBe(2);
}, 30_000);

it('still refuses to start on a fatal venue error at first boot (bad key), naming it', async () => {
  const venue = await startVenue(32);
  try {
    venue.faults.add({ kind: 'venue_error', venue: 'kraken', path: '/0/private/Balance', error: 'EAPI:Invalid key' });
    await expect(startBosun(tradingEnv(venue))).rejects.toThrow(/startup failed: kraken: .*Invalid key/);
  } finally {
    await venue.close();
  }
}, 30_000);
