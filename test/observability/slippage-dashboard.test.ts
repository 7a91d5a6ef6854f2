import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDashboard, knownMetricNames } from '../../src/cli/dashboards.commands.js';

/**
 * The slippage heatmap dashboard (issue #16 items 2 and 3): valid like every shipped dashboard, fed by
 * `order_slippage_bps`, with the futures taker-slippage panel the go-live gate reads and the maker panels.
 */
const doc = JSON.parse(
  readFileSync(
    resolve(import.meta.dirname, '../../ops/observability/grafana/dashboards/slippage_heatmap.json'),
    'utf8',
  ),
) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
const exprsOf = (title: RegExp) =>
  doc.panels.filter((p) => title.test(p.title)).flatMap((p) => p.targets.map((t) => t.expr));

describe('slippage_heatmap dashboard', () => {
  it('is valid and names only metrics Bosun exports', async () => {
    expect(checkDashboard(doc, await knownMetricNames()).problems).toEqual([]);
  });

  it('has an every-order heatmap and a futures taker panel fed by order_slippage_bps', () => {
    expect(exprsOf(/every order/).join()).toMatch(/order_slippage_bps_bucket/);
    const futures = exprsOf(/Futures taker slippage/);
    expect(futures.length).toBeGreaterThan(0);
    for (const e of futures) expect(e).toMatch(/order_slippage_bps_\w+\{market="linear",liquidity="taker"\}/);
  });

  it('has the maker shadow and live maker panels', () => {
    expect(exprsOf(/Maker shadow fill rate/).join()).toMatch(/maker_shadow_fill_rate/);
    const kpis = exprsOf(/Maker shadow: improvement/).join();
    for (const m of ['maker_shadow_improvement_bps', 'maker_shadow_adverse_bps', 'maker_shadow_missed_cost_bps'])
      expect(kpis).toContain(m);
    expect(exprsOf(/Live maker orders/).join()).toMatch(/maker_live_orders_total/);
  });
});
