import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics/metrics.js';
import { checkDashboard, concreteExpr, knownMetricNames, metricNamesIn } from './dashboards.commands.js';
import { checkExporter, checkTargets, EXPORTER_METRICS, parseExposition } from './smoke.commands.js';

const DASHBOARDS = resolve(import.meta.dirname, '../../ops/observability/grafana/dashboards');

/** A real scrape of Bosun's registry with the daily-check gauges set. */
async function scrape(set: (m: ReturnType<typeof createMetrics>) => void): Promise<string> {
  const m = createMetrics({ defaultMetrics: false });
  set(m);
  return m.registry.metrics();
}

const healthy = (m: ReturnType<typeof createMetrics>) => {
  m.cashUsd.set(290_000);
  m.marketValueUsd.set(365_770.902);
  m.equityUsd.set(290_000 + 365_770.902);
  m.heartbeat.set(1_796_179_865);
  m.riskEquityBufferUsd.set(648_971.4);
  m.krakenEquityUsd.set(349_985.6);
};

describe('smoke exporter (the daily check over one scrape)', () => {
  it('passes a scrape with every gauge set and a zero residual', async () => {
    const v = checkExporter(await scrape(healthy));
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.residual).toBe(0);
    expect(Object.keys(v.metrics)).toEqual([...EXPORTER_METRICS]);
  });

  it('fails when a gauge is missing from the scrape', async () => {
    const text = (await scrape(healthy))
      .split('\n')
      .filter((l) => !l.startsWith('kraken_equity_usd'))
      .join('\n');
    const v = checkExporter(text);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(['kraken_equity_usd is missing']);
  });

  it('fails a NaN value and a residual beyond 1e-9 relative', async () => {
    const v = checkExporter(
      await scrape((m) => {
        healthy(m);
        m.equityUsd.set(290_000 + 365_770.902 + 0.01);
        m.riskEquityBufferUsd.set(Number.NaN);
      }),
    );
    expect(v.ok).toBe(false);
    expect(v.problems).toContain('risk_equity_buffer_usd has no finite value');
    expect(v.problems.some((p) => p.startsWith('residual'))).toBe(true);
    expect(v.residual).toBeCloseTo(0.01, 6);
  });

  it('reads labelled samples, timestamps and infinities', () => {
    expect(parseExposition('# HELP x y\nx{a="1",b="2"} 3 1700000000\nb_bucket{le="+Inf"} +Inf\n')).toEqual([
      { name: 'x', labels: '{a="1",b="2"}', value: 3 },
      { name: 'b_bucket', labels: '{le="+Inf"}', value: Number.POSITIVE_INFINITY },
    ]);
  });
});

describe('smoke prom (targets of the Bosun jobs)', () => {
  const t = (job: string, health: string) => ({ labels: { job }, health, scrapeUrl: `http://x/${job}` });
  it('passes when every required job has targets and all are up', () => {
    const v = checkTargets([t('engine_binance', 'up'), t('engine_kraken', 'up'), t('ops', 'up')], ['ops']);
    expect(v).toMatchObject({ ok: true, problems: [], jobs: { ops: { up: 1, total: 1 } } });
  });
  it('fails a down target and a missing job, naming both', () => {
    const v = checkTargets([{ ...t('ops', 'down'), lastError: 'connection refused' }], ['ops', 'engine_kraken']);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([
      'ops http://x/ops is down: connection refused',
      'job engine_kraken has no active target',
    ]);
  });
});

describe('dashboard validation', () => {
  it('finds the metric names a PromQL expression reads', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le) (rate(strategy_tick_to_order_latency_ms_bucket{venue=~"$venue"}[$__rate_interval])))',
      ),
    ).toEqual(['strategy_tick_to_order_latency_ms_bucket']);
    expect(metricNamesIn('sum(equity_usd) - (sum(cash_usd) + sum(market_value_usd)) > bool 0')).toEqual([
      'equity_usd',
      'cash_usd',
      'market_value_usd',
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's literal ${…} variable syntax
    expect(concreteExpr('rate(x[$__rate_interval]) + rate(y[${__interval}])')).toBe('rate(x[1m]) + rate(y[1m])');
  });

  it('accepts every shipped dashboard and each has panels querying Bosun metrics', async () => {
    const known = await knownMetricNames();
    const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual([
      'command_center.json',
      'event_breakout_kpis.json',
      'funding.json',
      'slippage_heatmap.json',
      'trend_strategy_ops.json',
    ]);
    for (const f of files) {
      const r = checkDashboard(JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')), known);
      expect(r.problems, f).toEqual([]);
      expect(r.exprs.length, f).toBeGreaterThan(2);
    }
  });

  it('rejects a dashboard naming a metric Bosun does not export, and a broken panel', async () => {
    const known = await knownMetricNames();
    const doc = JSON.parse(readFileSync(join(DASHBOARDS, 'command_center.json'), 'utf8'));
    doc.panels[1].targets[0].expr = 'sum(equity_usdd)';
    delete doc.panels[2].gridPos;
    const r = checkDashboard(doc, known);
    expect(r.problems).toContain(`panel ${doc.panels[1].title}: 'equity_usdd' is not a metric Bosun exports`);
    expect(r.problems).toContain(`panel ${doc.panels[2].title}: gridPos needs h, w, x, y`);
  });
});
