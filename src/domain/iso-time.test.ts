import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoUtc } from './iso-time.js';

describe('isoUtc', () => {
  it('writes what Date#toISOString writes, leap days and century years included', () => {
    for (const s of [
      '1970-01-01T00:00:00.000Z',
      '2000-02-29T23:59:59.999Z',
      '2100-03-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
    ])
      expect(isoUtc(Date.parse(s))).toBe(s);
  });

  it('agrees with Date#toISOString over years 0001–9999 (fast-check; the seed is printed on failure)', () => {
    const min = Date.parse('0001-01-01T00:00:00.000Z');
    const max = Date.parse('9999-12-31T23:59:59.999Z');
    fc.assert(
      fc.property(fc.integer({ min, max }), (ms) => isoUtc(ms) === new Date(ms).toISOString()),
      { numRuns: 20_000 },
    );
  });
});
