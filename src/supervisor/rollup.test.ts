import { describe, expect, it } from 'vitest';
import type { Health } from '../machines/health.js';
import { type ChildView, contribution, type Liveness, rollup } from './rollup.js';

const child = (id: string, liveness: Liveness, health: Health, critical: boolean, reason = ''): ChildView => ({
  id,
  liveness,
  health,
  critical,
  reason,
});

describe('health roll-up (DESIGN §3)', () => {
  const table: Array<[Liveness, Health, boolean, Health | undefined]> = [
    ['running', 'OK', true, 'OK'],
    ['running', 'OK', false, 'OK'],
    ['running', 'DEGRADED', true, 'DEGRADED'],
    ['running', 'DEGRADED', false, 'DEGRADED'],
    ['running', 'HALTED', true, 'HALTED'],
    ['running', 'HALTED', false, 'DEGRADED'],
    ['backoff', 'OK', true, 'HALTED'],
    ['backoff', 'OK', false, 'DEGRADED'],
    ['stopped', 'OK', true, 'HALTED'],
    ['stopped', 'OK', false, 'DEGRADED'],
    ['removed', 'HALTED', true, undefined],
    ['removed', 'HALTED', false, undefined],
    ['escalated', 'OK', false, 'HALTED'],
    ['escalated', 'OK', true, 'HALTED'],
  ];
  it.each(table)('%s child reporting %s (critical=%s) contributes %s', (liveness, health, critical, expected) => {
    expect(contribution(child('c', liveness, health, critical))).toBe(expected);
  });

  it('takes the worst contribution and names the worst offender', () => {
    expect(rollup([])).toEqual({ value: 'OK', reason: '' });
    expect(
      rollup([
        child('a', 'running', 'DEGRADED', true, 'slow'),
        child('b', 'running', 'HALTED', false),
        child('c', 'backoff', 'OK', true),
        child('d', 'running', 'HALTED', true, 'auth'),
      ]),
    ).toEqual({ value: 'HALTED', reason: 'c:backoff:OK' });
    expect(rollup([child('a', 'running', 'OK', true), child('b', 'removed', 'HALTED', true)])).toEqual({
      value: 'OK',
      reason: '',
    });
    expect(rollup([child('a', 'running', 'DEGRADED', true, 'stale quotes')]).reason).toBe(
      'a:running:DEGRADED: stale quotes',
    );
  });
});
