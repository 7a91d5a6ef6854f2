import { describe, expect, it } from 'vitest';
import { recordRestart } from './policy.js';

describe('restart intensity window', () => {
  it('keeps restarts inside the period, appends now, and escalates past the intensity', () => {
    const log = [0, 500, 1_000];
    expect(recordRestart(log, 1_400, 1_000, 3)).toBe(false);
    expect(log).toEqual([500, 1_000, 1_400]);
    expect(recordRestart(log, 1_450, 1_000, 3)).toBe(true);
    expect(log).toEqual([500, 1_000, 1_400, 1_450]);
  });

  it('drops out-of-window entries wherever they sit (a clock step back leaves the log unsorted)', () => {
    const log = [5_000, 100, 5_100];
    expect(recordRestart(log, 5_200, 1_000, 3)).toBe(false);
    expect(log).toEqual([5_000, 5_100, 5_200]);
  });
});
