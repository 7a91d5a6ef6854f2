import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import { backoffDelay, poll, retryTransient } from './retry.js';

/** The one retry helper: its sleeps are the backoff's, a zero backoff runs tries back to back, only transients retry. */
const recorder = () => {
  const slept: number[] = [];
  return { slept, sleep: async (ms: number) => void slept.push(ms) };
};

describe('poll', () => {
  it('sleeps the backoff between tries and stops at the first done', async () => {
    const { slept, sleep } = recorder();
    const r = await poll({ attempts: 5, backoff: { firstMs: 10, maxMs: 25 }, sleep }, async (n) => ({
      done: n === 3,
      value: n,
    }));
    expect(r).toEqual({ done: true, value: 3 });
    expect(slept).toEqual([10, 20, 25]);
  });

  it('gives up after its attempts with the last value, and sleeps first when asked', async () => {
    const { slept, sleep } = recorder();
    const r = await poll({ attempts: 3, backoff: { firstMs: 5, maxMs: 100 }, sleep, delayFirst: true }, async (n) => ({
      done: false,
      value: n * 2,
    }));
    expect(r).toEqual({ done: false, value: 4 });
    expect(slept).toEqual([5, 10, 20]);
  });

  it('a zero backoff never sleeps (tries back to back)', async () => {
    const { slept, sleep } = recorder();
    const r = await poll({ attempts: 3, backoff: { firstMs: 0, maxMs: 0 }, sleep }, async (n) => ({
      done: n === 2,
      value: n,
    }));
    expect(r.done).toBe(true);
    expect(slept).toEqual([]);
  });
});

describe('retryTransient', () => {
  it('retries a retryable AppError with the backoff, then answers', async () => {
    const { slept, sleep } = recorder();
    let calls = 0;
    const v = await retryTransient({ attempts: 4, backoff: { firstMs: 50, maxMs: 80 }, sleep }, async () => {
      calls += 1;
      if (calls < 3) throw new AppError('VENUE_UNAVAILABLE', 'try again');
      return 'ok';
    });
    expect(v).toBe('ok');
    expect(slept).toEqual([50, 80]);
  });

  it('throws a non-retryable error at once and the last transient after its attempts', async () => {
    const { slept, sleep } = recorder();
    await expect(
      retryTransient({ attempts: 4, backoff: { firstMs: 1, maxMs: 1 }, sleep }, async () => {
        throw new AppError('BAD_REQUEST', 'no');
      }),
    ).rejects.toThrow('no');
    expect(slept).toEqual([]);
    let calls = 0;
    await expect(
      retryTransient({ attempts: 2, backoff: { firstMs: 1, maxMs: 1 }, sleep }, async () => {
        calls += 1;
        throw new AppError('VENUE_UNAVAILABLE', `down ${calls}`);
      }),
    ).rejects.toThrow('down 2');
    expect(backoffDelay({ firstMs: 3, maxMs: 100, factor: 3 }, 2)).toBe(27);
  });
});
