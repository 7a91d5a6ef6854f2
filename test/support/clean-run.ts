import { expect } from 'vitest';
import type { BosunProcess } from './bosun-process.js';

/** One sample of a Prometheus text exposition, by name and exact label string; throws when absent. */
export function metricSample(metrics: string, name: string, labels: string): number {
  const m = new RegExp(`^${name}${labels === '' ? '' : `\\{${labels}\\}`} (\\S+)$`, 'm').exec(metrics);
  if (!m) throw new Error(`no sample ${name}{${labels}}`);
  return Number(m[1]);
}

/**
 * What a clean default run means (issue 14): no venue 429 seen, no local refusal of orders or settlement, every
 * venue actor OK, no failed reconciliation or settlement in the log, and a periodic reconciliation (60 s) within
 * the last 75 s. Returns the metrics text it read, for the caller's own checks.
 */
export async function expectCleanRun(p: BosunProcess, venues: readonly string[]): Promise<string> {
  const metrics = await (await fetch(`${p.engine}/metrics`)).text();
  for (const venue of venues) {
    expect(
      metricSample(metrics, 'engine_venue_errors_total', `venue="${venue}",kind="rate_limit"`),
      `${venue} 429s`,
    ).toBe(0);
    for (const priority of ['order', 'settlement'])
      expect(
        metricSample(metrics, 'engine_venue_local_refusals_total', `venue="${venue}",priority="${priority}"`),
        `${venue} ${priority} refused locally`,
      ).toBe(0);
    for (const id of [`venue:${venue}`, `conn:${venue}`, `feed:${venue}`, `account:${venue}`]) {
      const a = (await (await fetch(`${p.engine}/actors/${id}`)).json()) as { health: string; reason: string };
      expect(`${id} ${a.health} ${a.reason}`).toBe(`${id} OK ${a.reason}`);
    }
  }
  const failed = p.lines.filter((l) => /reconciliation failed|settlement failed/.test(String(l.msg)));
  expect(failed.map((l) => JSON.stringify(l))).toEqual([]);
  expect(metricSample(metrics, 'reconcile_lag_seconds', '')).toBeLessThan(60 + 15);
  return metrics;
}
