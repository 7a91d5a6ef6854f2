import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { fakeDeps } from '../../../test/http/support/fakes.js';
import { createGoLive } from '../../actors/golive.js';
import { buildServer } from '../build-server.js';

/** `GET /golive` through inject(): the report validates against its documented schema; 503 without the source. */
describe('GET /golive', () => {
  it('answers the staged go-live report on the ops listener, and is advisory', async () => {
    const m = new Map<string, unknown>();
    const golive = createGoLive({
      config: { MODE: 'live', GOLIVE_START_AT: '2026-12-07T00:00:00Z', EVENT_BREAKOUT_DRY_RUN: true },
      kv: { get: <T>(k: string) => m.get(k) as T | undefined, put: async (k, v) => void m.set(k, v) },
      registry: new Registry(),
      now: () => Date.parse('2026-12-07T14:00:00Z'),
    });
    const app = await buildServer({ ...fakeDeps(), golive }, 'ops');
    const r = await app.inject({ method: 'GET', url: '/golive' });
    expect(r.statusCode).toBe(200);
    const b = r.json();
    expect(b.advisory).toBe(true);
    expect(b.stage.id).toBe('small_live');
    expect(b.differing).toContain('EVENT_BREAKOUT_DRY_RUN');
    await app.close();
  });

  it('is 503 NOT_READY without a go-live source', async () => {
    const app = await buildServer(fakeDeps(), 'ops');
    const r = await app.inject({ method: 'GET', url: '/golive' });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('NOT_READY');
    await app.close();
  });
});
