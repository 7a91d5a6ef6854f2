import { afterEach, describe, expect, it, vi } from 'vitest';
import { everyInterval } from './periodic.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('everyInterval', () => {
  it('never runs two tasks at once, routes failures to onError, and calls nothing after stop', async () => {
    vi.useFakeTimers();
    let release: () => void = () => {};
    let started = 0;
    const errors: string[] = [];
    let after = 0;
    const stop = everyInterval(
      100,
      async () => {
        started += 1;
        if (started === 2) throw new Error('venue down');
        await new Promise<void>((r) => {
          release = r;
        });
      },
      (m) => errors.push(m),
      () => {
        after += 1;
      },
    );
    expect(started).toBe(1);
    await vi.advanceTimersByTimeAsync(350); // three ticks while the first task is still running
    expect(started).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(100);
    expect(started).toBe(2);
    expect(errors).toEqual(['venue down']);
    expect(after).toBe(2);
    stop();
    release();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(2);
    expect(after).toBe(2);
  });
});
