import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock } from 'xstate';
import { accountMachine } from './account.machine.js';
import { feedMachine } from './feed.machine.js';

/** The feed and account machines with their effect slots left idle; the tests play the effects' events. */
const idle = fromCallback(() => () => {});

describe('feed machine', () => {
  it('goes DEGRADED when no poll succeeds for staleMs and OK again on the next good poll', () => {
    const clock = new SimulatedClock();
    const feed = createActor(feedMachine.provide({ actors: { poller: idle as never } }), {
      clock,
      input: { venue: 'binance', symbols: ['BTCUSDT'], intervalMs: 100, staleMs: 1_000 },
    });
    feed.start();
    feed.send({ type: 'feed.polled', at: 1, ticks: 1 });
    clock.increment(900);
    feed.send({ type: 'feed.polled', at: 2, ticks: 1 });
    clock.increment(900);
    expect(feed.getSnapshot().context.health.value).toBe('OK');
    feed.send({ type: 'feed.failed', at: 3, error: 'timeout' });
    clock.increment(200);
    expect(feed.getSnapshot().context.health).toEqual({
      value: 'DEGRADED',
      reason: 'stale: no ticks for 1000 ms (timeout)',
    });
    feed.send({ type: 'feed.polled', at: 4, ticks: 1 });
    expect(feed.getSnapshot().context.health.value).toBe('OK');
    expect(feed.getSnapshot().context).toMatchObject({ polls: 3, failures: 1, ticks: 3 });
  });
});

describe('feed machine with a stream', () => {
  const start = () => {
    const clock = new SimulatedClock();
    const feed = createActor(feedMachine.provide({ actors: { poller: idle as never } }), {
      clock,
      input: { venue: 'kraken', symbols: ['BTCUSD'], intervalMs: 100, staleMs: 1_000 },
    });
    feed.start();
    return { feed, clock };
  };

  it('is DEGRADED "stream down, polling" while the stream is down, even with fresh polls, and OK when it is back', () => {
    const { feed } = start();
    feed.send({ type: 'feed.stream', state: 'live', at: 1 });
    feed.send({ type: 'feed.polled', at: 2, ticks: 5 });
    expect(feed.getSnapshot().context.health.value).toBe('OK');
    feed.send({ type: 'feed.stream', state: 'down', reason: 'silent: no message for 10000 ms', at: 3 });
    feed.send({ type: 'feed.polled', at: 4, ticks: 1 });
    expect(feed.getSnapshot().context.health).toEqual({
      value: 'DEGRADED',
      reason: 'stream down, polling (silent: no message for 10000 ms)',
    });
    feed.send({ type: 'feed.stream', state: 'live', at: 5 });
    expect(feed.getSnapshot().context.health.value).toBe('OK');
    expect(feed.getSnapshot().context).toMatchObject({ stream: 'live', streamRecoveries: 1 });
  });

  it('stays DEGRADED stale when the stream comes back but nothing arrived for staleMs', () => {
    const { feed, clock } = start();
    feed.send({ type: 'feed.stream', state: 'down', reason: 'drop', at: 1 });
    clock.increment(1_100);
    expect(feed.getSnapshot().context.health.reason).toMatch(/^stale/);
    feed.send({ type: 'feed.stream', state: 'live', at: 5_000 });
    expect(feed.getSnapshot().context.health.value).toBe('DEGRADED');
    feed.send({ type: 'feed.polled', at: 5_001, ticks: 3 });
    expect(feed.getSnapshot().context.health.value).toBe('OK');
  });
});

describe('account machine', () => {
  it('goes DEGRADED after maxFailures refreshes in a row fail and OK on the next good one', () => {
    const acct = createActor(accountMachine.provide({ actors: { refresher: idle as never } }), {
      input: { venue: 'kraken', intervalMs: 1_000, maxFailures: 3 },
    });
    acct.start();
    acct.send({ type: 'account.failed', at: 1, error: 'timeout' });
    acct.send({ type: 'account.failed', at: 2, error: 'timeout' });
    expect(acct.getSnapshot().context.health.value).toBe('OK');
    acct.send({ type: 'account.failed', at: 3, error: 'timeout' });
    expect(acct.getSnapshot().context.health).toEqual({
      value: 'DEGRADED',
      reason: 'refresh_failing: 3 in a row (timeout)',
    });
    const summary = { cashUsd: 10, marketValueUsd: 5, equityUsd: 15, exposureUsd: 5, openOrders: 0, assets: 2 };
    acct.send({ type: 'account.refreshed', at: 4, summary });
    expect(acct.getSnapshot().context.health.value).toBe('OK');
    expect(acct.getSnapshot().context.summary).toEqual(summary);
  });

  it('is DEGRADED "stream down, polling" while a user-data stream is down, even through good refreshes, and OK when every stream is back', () => {
    const acct = createActor(accountMachine.provide({ actors: { refresher: idle as never } }), {
      input: { venue: 'binance', intervalMs: 1_000, maxFailures: 3 },
    });
    acct.start();
    const summary = { cashUsd: 10, marketValueUsd: 5, equityUsd: 15, exposureUsd: 5, openOrders: 0, assets: 2 };
    acct.send({ type: 'account.stream', market: 'spot', state: 'live', at: 1 });
    acct.send({ type: 'account.stream', market: 'linear', state: 'live', at: 1 });
    expect(acct.getSnapshot().context.health.value).toBe('OK');
    acct.send({ type: 'account.stream', market: 'linear', state: 'down', reason: 'connection closed', at: 2 });
    expect(acct.getSnapshot().context.health).toEqual({
      value: 'DEGRADED',
      reason: 'stream down, polling (linear: connection closed)',
    });
    acct.send({ type: 'account.refreshed', at: 3, summary });
    expect(acct.getSnapshot().context.health.value).toBe('DEGRADED');
    acct.send({ type: 'account.stream', market: 'spot', state: 'down', reason: 'timeout', at: 4 });
    acct.send({ type: 'account.stream', market: 'linear', state: 'live', at: 5 });
    expect(acct.getSnapshot().context.health).toEqual({
      value: 'DEGRADED',
      reason: 'stream down, polling (spot: timeout)',
    });
    acct.send({ type: 'account.stream', market: 'spot', state: 'live', at: 6 });
    expect(acct.getSnapshot().context.health.value).toBe('OK');
  });
});
