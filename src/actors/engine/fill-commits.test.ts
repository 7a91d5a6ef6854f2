import { describe, expect, it } from 'vitest';
import { createFillCommits } from './fill-commits.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('fill commits', () => {
  it('hands a second copy the first copy’s commit while it is in flight, and nothing once it landed', async () => {
    const c = createFillCommits();
    const d = deferred();
    c.track('spot', 'binance', 't1', d.promise);
    expect(c.pending('spot', 'binance', 't1')).toBe(d.promise);
    // Same id, other market or venue: another trade.
    expect(c.pending('linear', 'binance', 't1')).toBeUndefined();
    expect(c.pending('spot', 'kraken', 't1')).toBeUndefined();
    d.resolve();
    await d.promise;
    await Promise.resolve();
    expect(c.pending('spot', 'binance', 't1')).toBeUndefined();
  });

  it('a failed commit fails for whoever waits on it, then is forgotten', async () => {
    const c = createFillCommits();
    const d = deferred();
    c.track('spot', 'binance', 't2', d.promise);
    const waiting = c.pending('spot', 'binance', 't2');
    d.reject(new Error('commit failed'));
    await expect(waiting).rejects.toThrow('commit failed');
    await Promise.resolve();
    expect(c.pending('spot', 'binance', 't2')).toBeUndefined();
  });
});
