import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import type { BreakoutDecision } from '../strategies/breakout.js';
import { createBreakout, createExternalFeed } from './breakout.actors.js';

async function setup(dryRun: boolean) {
  const metrics = createMetrics({ defaultMetrics: false });
  const feed = createExternalFeed();
  const sent: BreakoutDecision[] = [];
  const b = createBreakout({
    feed,
    enabled: true,
    dryRun,
    kpis: true,
    symbols: ['FOOUSDT'],
    params: { windowMs: 60_000, breakoutPct: 1 },
    metrics,
    log: createLogger({ level: 'silent', stdout: false }).log,
    submit: async (d) => {
      sent.push(d);
      return { status: 'accepted', averagePrice: d.triggerPrice * 1.001 };
    },
  });
  feed.publish({ id: 'e1', source: 'test_harness', receivedAt: 0, payload: { symbol: 'FOOUSDT' } });
  await b.price('FOOUSDT', 100, 10);
  await b.price('FOOUSDT', 102, 20);
  return { metrics, sent, b };
}

describe('event breakout consumer of events.external_feed', () => {
  it('dry run: the decision is logged and counted, nothing is sent', async () => {
    const { metrics, sent, b } = await setup(true);
    expect(b.state().decisions).toBe(1);
    expect(sent).toEqual([]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/event_breakout_decisions_total\{mode="dry_run",side="buy"\} 1/);
  });

  it('live: the decision goes to the order path and its slippage is measured', async () => {
    const { metrics, sent } = await setup(false);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ symbol: 'FOOUSDT', side: 'buy', eventId: 'e1', source: 'test_harness' });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/event_breakout_decisions_total\{mode="live",side="buy"\} 1/);
    expect(text).toMatch(/event_breakout_slippage_bps_count 1/);
    expect(text).toMatch(/event_breakout_trigger_latency_ms_count 1/);
  });
});
