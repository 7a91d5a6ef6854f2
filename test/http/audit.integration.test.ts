import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditCount, type RealStack, startRealStack } from './support/real-stack.js';

describe('GET /audit filters', () => {
  let s: RealStack;
  let betweenMs = 0;
  const command = (actor: string, enabled: boolean, key: string) =>
    s.ops.inject({
      method: 'POST',
      url: '/kill',
      headers: { 'x-ops-token': s.token, 'x-ops-actor': actor, 'idempotency-key': key },
      payload: { enabled },
    });
  const list = async (query: string) => {
    const r = await s.ops.inject(`/audit${query}`);
    expect(r.statusCode).toBe(200);
    return (r.json().records as Array<{ seq: number; actor: string; action: string; ts: number }>).map(
      (x) => `${x.seq}:${x.actor}:${x.action}`,
    );
  };

  beforeAll(async () => {
    s = await startRealStack();
    expect((await command('alice', false, 'k1')).statusCode).toBe(200);
    expect((await command('bob', true, 'k2')).statusCode).toBe(200);
    // Wait on the clock, not a sleep: the next record must carry a later millisecond than `betweenMs`.
    const head = (await s.ops.inject('/audit?limit=1')).json().records[0].ts as number;
    betweenMs = head + 1;
    await vi.waitFor(() => {
      if (Date.now() <= betweenMs) throw new Error('same millisecond');
    });
    expect((await command('alice', false, 'k3')).statusCode).toBe(200);
    expect(auditCount(s.store)).toBe(3);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('lists newest first, bounded by limit', async () => {
    expect(await list('')).toEqual(['3:alice:kill', '2:bob:resume', '1:alice:kill']);
    expect(await list('?limit=2')).toEqual(['3:alice:kill', '2:bob:resume']);
  });

  it('filters by actor, action and since (epoch ms), alone and together', async () => {
    expect(await list('?actor=alice')).toEqual(['3:alice:kill', '1:alice:kill']);
    expect(await list('?action=resume')).toEqual(['2:bob:resume']);
    expect(await list(`?since=${betweenMs}`)).toEqual(['3:alice:kill']);
    expect(await list('?actor=alice&action=kill&limit=1')).toEqual(['3:alice:kill']);
    expect(await list('?actor=carol')).toEqual([]);
  });

  it('refuses a bad filter with a 400 naming it', async () => {
    for (const [q, field] of [
      ['?limit=0', 'limit'],
      ['?limit=abc', 'limit'],
      ['?since=-5', 'since'],
      [`?actor=${'x'.repeat(65)}`, 'actor'],
    ] as const) {
      const r = await s.ops.inject(`/audit${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
      expect(r.json().error.message).toContain(`querystring.${field}`);
    }
  });
});
