import { type ReplayOptions, type ReplayResult, type RunMode, replay } from './replay.js';
import { type Aggregate, aggregate, type RunSummary, summarise } from './summary.js';
import type { TickSeries } from './tick-sources.js';

/**
 * Runs every requested mode over every tick series (a seeded path or venue history) and summarises them: the
 * per-path summaries, the per-mode aggregates across paths, and the raw bars of the first path for the report.
 */
/** What `replay` takes for one run, with the modes to run instead of one (each mode is one replay). */
export type BacktestPlan = Omit<ReplayOptions, 'mode'> & { modes: readonly RunMode[] };

export interface PathResult {
  label: string;
  runs: RunSummary[];
}

export interface BacktestOutcome {
  paths: PathResult[];
  aggregates: Aggregate[];
  /** The first path's replays (bars and fills), for the HTML report. */
  first: ReplayResult[];
}

export function runBacktest(
  plan: BacktestPlan,
  series: readonly TickSeries[],
  onPath?: (i: number, p: PathResult) => void,
): BacktestOutcome {
  const paths: PathResult[] = [];
  let first: ReplayResult[] = [];
  series.forEach((s, i) => {
    const results = plan.modes.map((mode) =>
      replay(s.ticks, {
        ...plan,
        mode,
        venue: plan.venue,
        ...(plan.perp && s.funding ? { funding: s.funding } : {}),
      }),
    );
    if (i === 0) first = results;
    const p = { label: s.label, runs: results.map((r) => summarise(r, plan)) };
    paths.push(p);
    onPath?.(i, p);
  });
  const aggregates = plan.modes.map((mode) =>
    aggregate(
      mode,
      paths.flatMap((p) => p.runs.filter((r) => r.mode === mode)),
    ),
  );
  return { paths, aggregates, first };
}
