import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/store/index.js';
import type { TradingCommand } from '../../src/supervisor/runtime-port.js';
import { auditCount, type RealStack, startRealStack } from './support/real-stack.js';

const stacks: RealStack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.close();
});

function kill(s: RealStack, key: string, payload = '{"enabled": false}') {
  return s.ops.inject({
    method: 'POST',
    url: '/kill',
    headers: {
      'x-ops-token': s.token,
      'idempotency-key': key,
      'x-ops-actor': 'ops-1',
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload,
  });
}

describe('Idempotency-Key against the real LMDB store', () => {
  it('50 concurrent identical POST /kill give one state change and one audit record; the rest replay or 409', async () => {
    const s = await startRealStack();
    stacks.push(s);
    const applied: TradingCommand[] = [];
    const setTrading = s.runtime.setTrading.bind(s.runtime);
    s.runtime.setTrading = (cmd) => {
      applied.push(cmd);
      return setTrading(cmd);
    };
    const responses = await Promise.all(Array.from({ length: 50 }, () => kill(s, 'kill-1700000000')));

    const fresh = responses.filter((r) => r.statusCode === 200 && r.headers['idempotent-replayed'] === undefined);
    const replayed = responses.filter((r) => r.statusCode === 200 && r.headers['idempotent-replayed'] === 'true');
    const inFlight = responses.filter((r) => r.statusCode === 409);
    expect(fresh).toHaveLength(1);
    expect(replayed.length + inFlight.length).toBe(49);
    for (const r of replayed) expect(r.json()).toEqual(fresh[0]?.json());
    for (const r of inFlight) expect(r.json().error.code).toBe('IDEMPOTENCY_IN_FLIGHT');

    expect(applied).toHaveLength(1);
    expect(auditCount(s.store)).toBe(1);
    expect(s.store.audit.list({ limit: 5 })[0]).toMatchObject({
      action: 'kill',
      actor: 'ops-1',
      result: 'ok',
      idempotencyKey: 'kill-1700000000',
      before: { state: 'ACTIVE' },
      after: { state: 'HALTED' },
    });
    expect(fresh[0]?.json()).toMatchObject({ trading_enabled: false, trading_state: 'HALTED', audit: { seq: 1 } });
    expect(s.runtime.governance().global.state).toBe('HALTED');
    expect(s.store.kv.get('governance')).toMatchObject({ global: { state: 'HALTED', by: 'ops-1' } });
    expect(verifyAuditChain(s.store)).toEqual({ ok: true, count: 1 });

    // After the dust settles every duplicate replays the stored answer.
    const late = await kill(s, 'kill-1700000000');
    expect(late.statusCode).toBe(200);
    expect(late.headers['idempotent-replayed']).toBe('true');
    expect(s.store.idempotency.get('kill-1700000000')).toMatchObject({ status: 200 });
  });

  it('the same key with another body is 422 and does not resume trading', async () => {
    const s = await startRealStack();
    stacks.push(s);
    expect((await kill(s, 'kill-1')).statusCode).toBe(200);
    const res = await kill(s, 'kill-1', '{"enabled": true}');
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('IDEMPOTENCY_MISMATCH');
    expect(s.runtime.governance().global.state).toBe('HALTED');
    expect(auditCount(s.store)).toBe(1);
  });

  it('a resume with a new key after a kill records before/after and re-enables trading durably', async () => {
    const s = await startRealStack();
    stacks.push(s);
    await kill(s, 'k-a');
    const res = await kill(s, 'k-b', '{"enabled": true, "reason": "all clear"}');
    expect(res.json()).toMatchObject({ trading_enabled: true, trading_state: 'ACTIVE', audit: { seq: 2 } });
    expect(s.store.kv.get('governance')).toMatchObject({ global: { state: 'ACTIVE', reason: 'all clear' } });
    expect((await s.metrics.tradingEnabled.get()).values[0]?.value).toBe(1);
  });
});
