import { describe, expect, it } from 'vitest';
import { createReplayCache, parseTimestampHeader, signatureMatches } from './external-events.js';

describe('external event signatures', () => {
  // GitHub's published test vector (reference/performance-and-safety.md §3.1).
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');
  const good = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  it('matches the published HMAC-SHA256 test vector, upper or lower case hex', () => {
    expect(signatureMatches(secret, body, good)).toBe(true);
    expect(signatureMatches(secret, body, `sha256=${good.slice(7).toUpperCase()}`)).toBe(true);
    expect(signatureMatches(secret, Buffer.from('Hello, World?'), good)).toBe(false);
    expect(signatureMatches('another secret', body, good)).toBe(false);
  });

  it('answers false, never throws, for garbled, truncated, over-long or non-string headers', () => {
    for (const h of [
      undefined,
      '',
      'sha256=',
      good.slice(0, -1),
      `${good}00`,
      good.replace('sha256', 'sha1'),
      ['a'],
      42,
    ])
      expect(signatureMatches(secret, body, h)).toBe(false);
  });

  it('covers the timestamp when one is sent', () => {
    expect(signatureMatches(secret, body, good, '1700000000')).toBe(false);
  });

  it('reads epoch-second timestamps only', () => {
    expect(parseTimestampHeader('1700000000')).toBe(1_700_000_000);
    for (const h of ['-1', '1.5', '', '1e9', ' 17', undefined]) expect(parseTimestampHeader(h)).toBeNull();
  });
});

describe('replay cache', () => {
  it('refuses a key it has seen until the TTL passes', () => {
    const c = createReplayCache({ ttlMs: 1000, maxEntries: 10 });
    expect(c.claim('a', 0)).toBe(true);
    expect(c.claim('a', 999)).toBe(false);
    expect(c.claim('a', 1000)).toBe(true);
  });

  it('stays within its bound, evicting the oldest key', () => {
    const c = createReplayCache({ ttlMs: 60_000, maxEntries: 3 });
    for (const k of ['a', 'b', 'c', 'd']) expect(c.claim(k, 1)).toBe(true);
    expect(c.size()).toBe(3);
    expect(c.claim('b', 2)).toBe(false);
    expect(c.claim('a', 2)).toBe(true);
  });

  it('forgets a released key', () => {
    const c = createReplayCache({ ttlMs: 60_000, maxEntries: 3 });
    c.claim('a', 0);
    c.release('a');
    expect(c.claim('a', 1)).toBe(true);
  });
});
