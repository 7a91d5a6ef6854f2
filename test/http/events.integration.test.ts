import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PublishedExternalEvent } from '../../src/http/ports.js';
import { createLogger } from '../../src/logging/logger.js';
import { auditCount, type RealStack, startRealStack } from './support/real-stack.js';

const RUNBOOK_BODY = '{"source":"test_harness","payload":{"symbol":"FOOUSDT"}}';
const sign = (secret: string, body: string, ts?: string) =>
  `sha256=${createHmac('sha256', secret)
    .update(ts === undefined ? body : `${ts}.${body}`)
    .digest('hex')}`;

async function counter(s: RealStack, name: 'externalFeedEvents' | 'externalFeedErrors') {
  return (await s.metrics[name].get()).values.map((v) => ({
    labels: v.labels as Record<string, string | number | undefined>,
    value: v.value,
  }));
}

describe('POST /events/external with EXTERNAL_EVENTS_SECRET set', () => {
  let s: RealStack;
  const clock = 1_800_000_000_000;
  const published: PublishedExternalEvent[] = [];
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    s.engine.inject({
      method: 'POST',
      url: '/events/external',
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });

  beforeAll(async () => {
    s = await startRealStack({ now: () => clock, eventsMaxBodyBytes: 2048 });
    s.feed.subscribe((e) => published.push(e as PublishedExternalEvent));
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    published.length = 0;
  });

  it('accepts a correctly signed event and publishes it onto events.external_feed', async () => {
    const r = await post(RUNBOOK_BODY, { 'x-events-signature': sign(s.eventsSecret, RUNBOOK_BODY) });
    expect(r.statusCode).toBe(202);
    const body = r.json();
    expect(body).toMatchObject({ accepted: true });
    expect(published).toEqual([
      { id: body.id, source: 'test_harness', receivedAt: clock, payload: { symbol: 'FOOUSDT' } },
    ]);
    expect(await counter(s, 'externalFeedEvents')).toEqual([{ labels: { source: 'test_harness' }, value: 1 }]);
    const last = (await s.metrics.externalFeedLastEvent.get()).values;
    expect(last).toEqual([expect.objectContaining({ labels: { source: 'test_harness' }, value: clock / 1000 })]);
    const latency = (await s.metrics.externalFeedFetchLatencyMs.get()).values.find(
      (v) => v.metricName === 'external_feed_fetch_latency_ms_count',
    );
    expect(latency?.value).toBe(1);
    const latencySum = (await s.metrics.externalFeedFetchLatencyMs.get()).values.find(
      (v) => v.metricName === 'external_feed_fetch_latency_ms_sum',
    );
    expect(latencySum?.value).toBeGreaterThan(0);
  });

  const good = '{"source":"refusals","payload":{"symbol":"BTCUSDT"},"id":"r-1"}';
  const refusals: Array<[string, () => Record<string, string>, string, string?]> = [
    ['a wrong signature', () => ({ 'x-events-signature': sign('not-the-secret', good) }), 'does not match'],
    [
      'a truncated signature',
      () => ({ 'x-events-signature': sign(s.eventsSecret, good).slice(0, -2) }),
      'sha256=<64 hex digits>',
    ],
    ['a missing signature', () => ({}), 'missing X-Events-Signature'],
    ['a garbled signature', () => ({ 'x-events-signature': `sha256=${'zz'.repeat(32)}` }), '64 hex digits'],
    ['another scheme', () => ({ 'x-events-signature': `md5=${'a'.repeat(64)}` }), '64 hex digits'],
    [
      'a body changed after signing',
      () => ({ 'x-events-signature': sign(s.eventsSecret, good) }),
      'does not match',
      good.replace('BTCUSDT', 'ETHUSDT'),
    ],
    [
      'a timestamp header the signature does not cover',
      () => ({ 'x-events-signature': sign(s.eventsSecret, good), 'x-events-timestamp': String(clock / 1000) }),
      'does not match',
    ],
  ];
  for (const [what, headers, message, sent] of refusals) {
    it(`refuses ${what} with 401 and publishes nothing`, async () => {
      const r = await post(sent ?? good, headers());
      expect(r.statusCode).toBe(401);
      expect(r.json().error.code).toBe('UNAUTHORIZED');
      expect(r.json().error.message).toContain(message);
      expect(published).toEqual([]);
      expect(auditCount(s.store)).toBe(0);
    });
  }

  it('refuses a replay of an accepted event (same bytes, or another body with the same id)', async () => {
    const body = '{"source":"replays","payload":{"symbol":"BTCUSDT"}}';
    const headers = { 'x-events-signature': sign(s.eventsSecret, body) };
    expect((await post(body, headers)).statusCode).toBe(202);
    const again = await post(body, headers);
    expect(again.statusCode).toBe(401);
    expect(again.json().error.message).toContain('replay');

    const withId = (sym: string) => `{"source":"replays","payload":{"symbol":"${sym}"},"id":"evt-7"}`;
    expect(
      (await post(withId('ETHUSDT'), { 'x-events-signature': sign(s.eventsSecret, withId('ETHUSDT')) })).statusCode,
    ).toBe(202);
    const sameId = await post(withId('SOLUSDT'), { 'x-events-signature': sign(s.eventsSecret, withId('SOLUSDT')) });
    expect(sameId.statusCode).toBe(401);
    expect(sameId.json().error.message).toBe("event id 'evt-7' was already accepted (replay)");
    expect(published.map((e) => e.payload.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(published[1]?.id).toBe('evt-7');
  });

  it('accepts a timestamped signature inside the window and refuses one outside it', async () => {
    const body = '{"source":"stamped","payload":{"symbol":"BTCUSDT"}}';
    const ts = String(clock / 1000 - 100);
    const ok = await post(body, { 'x-events-signature': sign(s.eventsSecret, body, ts), 'x-events-timestamp': ts });
    expect(ok.statusCode).toBe(202);
    const old = String(clock / 1000 - 301);
    const stale = await post(body, {
      'x-events-signature': sign(s.eventsSecret, body, old),
      'x-events-timestamp': old,
    });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error.message).toContain('outside the ±300 s window');
    const bodyTs = `{"source":"stamped","payload":{},"ts":${clock / 1000 - 400}}`;
    const staleBody = await post(bodyTs, { 'x-events-signature': sign(s.eventsSecret, bodyTs) });
    expect(staleBody.statusCode).toBe(401);
    expect(published).toHaveLength(1);
  });

  it('answers an oversize body with a JSON 413 and publishes nothing', async () => {
    const body = JSON.stringify({ source: 'big', payload: { pad: 'x'.repeat(3000) } });
    const r = await post(body, { 'x-events-signature': sign(s.eventsSecret, body) });
    expect(r.statusCode).toBe(413);
    expect(r.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(published).toEqual([]);
  });

  it('validates the body only after the signature, naming the field', async () => {
    const body = '{"source":"test_harness","payload":[1,2]}';
    const r = await post(body, { 'x-events-signature': sign(s.eventsSecret, body) });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('body.payload'),
    });
    const unsignedBad = await post('{"source":', { 'x-events-signature': sign('wrong', '{"source":') });
    expect(unsignedBad.statusCode).toBe(401);
    const signedBad = await post('{"source":', { 'x-events-signature': sign(s.eventsSecret, '{"source":') });
    expect(signedBad.statusCode).toBe(400);
    expect(signedBad.json().error.code).toBe('BAD_REQUEST');
    expect(published).toEqual([]);
  });

  it('counts refusals by reason, not in the audit log', async () => {
    const errors = await counter(s, 'externalFeedErrors');
    const by = (reason: string) => errors.filter((e) => e.labels.reason === reason).reduce((n, e) => n + e.value, 0);
    expect(by('bad_signature')).toBeGreaterThanOrEqual(5);
    expect(by('missing_signature')).toBe(1);
    expect(by('replay')).toBe(2);
    expect(by('too_large')).toBe(1);
    expect(by('invalid_body')).toBe(1);
    expect(auditCount(s.store)).toBe(0);
  });
});

describe('POST /events/external without a secret', () => {
  let s: RealStack;
  const lines: string[] = [];
  beforeAll(async () => {
    const { log } = createLogger({ level: 'info', stream: { write: (l: string) => lines.push(l) } });
    s = await startRealStack({ eventsSecret: '', log });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('accepts unsigned events and warns once', async () => {
    const got: unknown[] = [];
    s.feed.subscribe((e) => got.push(e));
    for (const sym of ['BTCUSDT', 'ETHUSDT']) {
      const r = await s.engine.inject({
        method: 'POST',
        url: '/events/external',
        payload: { source: 'open', payload: { symbol: sym } },
      });
      expect(r.statusCode).toBe(202);
    }
    expect(got).toHaveLength(2);
    expect(lines.filter((l) => l.includes('accepting unsigned external events'))).toHaveLength(1);
    // Without a secret the replay key is the body itself, whatever signature header comes with it.
    const again = await s.engine.inject({
      method: 'POST',
      url: '/events/external',
      headers: { 'content-type': 'application/json', 'x-events-signature': `sha256=${'0'.repeat(64)}` },
      payload: JSON.stringify({ source: 'open', payload: { symbol: 'BTCUSDT' } }),
    });
    expect(again.statusCode).toBe(401);
    expect(again.json().error.message).toContain('replay');
    expect(got).toHaveLength(2);
  });
});
