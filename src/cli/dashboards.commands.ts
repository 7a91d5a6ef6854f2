import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage } from '../domain/errors.js';
import { createMetrics } from '../metrics/metrics.js';
import { parse } from './args.js';
import { type CliContext, EXIT_FAILED, EXIT_OK, emit, UsageError } from './cli-context.js';

const run = promisify(execFile);

/**
 * `bosun validate-dashboards <file.json…> [--promtool path]` (part of `make validate-obs`): each file is a
 * Grafana dashboard (title, uid, schemaVersion, panels with type, title, gridPos and Prometheus targets), every
 * metric its PromQL names is one Bosun exports (src/metrics/metrics.ts, plus `up`), and — with `--promtool` —
 * every expression parses, checked by `promtool check rules` over them written as recording rules.
 */
const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/** Bosun's metric names, with the `_bucket`/`_sum`/`_count` series of histograms. */
export async function knownMetricNames(): Promise<Set<string>> {
  const m = createMetrics();
  const names = new Set<string>(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
  for (const x of await m.registry.getMetricsAsJSON()) {
    names.add(x.name);
    if (String(x.type) === 'histogram' || String(x.type) === 'summary')
      for (const s of ['_bucket', '_sum', '_count']) names.add(`${x.name}${s}`);
  }
  return names;
}

/** The metric names a PromQL expression reads (strings, label matchers, ranges, groupings and calls removed). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || !name || PROMQL_WORDS.has(name.toLowerCase())) continue;
    out.add(name);
  }
  return [...out];
}

/** Grafana's template variables → something PromQL parses. */
export function concreteExpr(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)|\$\{__(rate_interval|interval|range)\}/g, '1m');
}

interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  gridPos?: { h?: unknown; w?: unknown; x?: unknown; y?: unknown };
  targets?: Array<{ expr?: unknown; refId?: unknown }>;
  panels?: Panel[];
}

export function checkDashboard(doc: unknown, known: Set<string>): { problems: string[]; exprs: string[] } {
  const problems: string[] = [];
  const exprs: string[] = [];
  const d = doc as { title?: unknown; uid?: unknown; schemaVersion?: unknown; panels?: unknown };
  if (typeof d !== 'object' || d === null) return { problems: ['not a JSON object'], exprs };
  if (typeof d.title !== 'string' || d.title === '') problems.push('title must be a non-empty string');
  if (typeof d.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(d.uid))
    problems.push('uid must be 1–40 [A-Za-z0-9_-]');
  if (typeof d.schemaVersion !== 'number') problems.push('schemaVersion must be a number');
  if (!Array.isArray(d.panels) || d.panels.length === 0) problems.push('panels must be a non-empty array');
  const ids = new Set<unknown>();
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      const name = `panel ${String(p.title ?? p.id)}`;
      if (typeof p.id !== 'number') problems.push(`${name}: id must be a number`);
      else if (ids.has(p.id)) problems.push(`${name}: duplicate id ${p.id}`);
      ids.add(p.id);
      if (typeof p.type !== 'string') problems.push(`${name}: type must be a string`);
      if (typeof p.title !== 'string') problems.push(`${name}: title must be a string`);
      const g = p.gridPos;
      if (!g || ![g.h, g.w, g.x, g.y].every((v) => typeof v === 'number'))
        problems.push(`${name}: gridPos needs h, w, x, y`);
      if (p.type === 'row') {
        walk(p.panels ?? []);
        continue;
      }
      if (!Array.isArray(p.targets) || p.targets.length === 0) problems.push(`${name}: no targets`);
      for (const t of p.targets ?? []) {
        if (typeof t.expr !== 'string' || t.expr.trim() === '') {
          problems.push(`${name}: target ${String(t.refId)} has no expr`);
          continue;
        }
        exprs.push(t.expr);
        for (const m of metricNamesIn(t.expr))
          if (!known.has(m)) problems.push(`${name}: '${m}' is not a metric Bosun exports`);
      }
    }
  };
  if (Array.isArray(d.panels)) walk(d.panels as Panel[]);
  return { problems, exprs };
}

export async function validateDashboards(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { promtool: { type: 'string' } }, Number.POSITIVE_INFINITY);
  if (positionals.length === 0) throw new UsageError('validate-dashboards needs one or more dashboard .json files');
  const known = await knownMetricNames();
  const report: Record<string, string[]> = {};
  const allExprs: string[] = [];
  for (const file of positionals) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      report[file] = [`not valid JSON: ${errorMessage(e)}`];
      continue;
    }
    const r = checkDashboard(doc, known);
    report[file] = r.problems;
    allExprs.push(...r.exprs);
  }
  let promtool: string | undefined;
  if (values.promtool && allExprs.length > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-dash-rules-'));
    const rules = join(dir, 'dashboard_exprs.rules.yml');
    const body = allExprs
      .map((e, i) => `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(concreteExpr(e))}\n`)
      .join('');
    writeFileSync(rules, `groups:\n  - name: dashboard_exprs\n    rules:\n${body}`);
    try {
      const { stdout } = await run(values.promtool, ['check', 'rules', rules]);
      promtool = stdout.trim();
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      report.promtool = [
        `promtool check rules failed on the dashboards' PromQL: ${err.stderr || err.stdout || errorMessage(e)}`,
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const bad = Object.entries(report).filter(([, p]) => p.length > 0);
  emit(ctx, { ok: bad.length === 0, report, expressions: allExprs.length, promtool: promtool ?? null }, () =>
    [
      ...positionals.map((f) => `${(report[f] ?? []).length === 0 ? 'ok  ' : 'FAIL'} ${f}`),
      ...bad.flatMap(([f, p]) => p.map((x) => `  ${f}: ${x}`)),
      `${allExprs.length} PromQL expressions${promtool ? ' parsed by promtool' : ''}; ${bad.length === 0 ? 'dashboards valid' : 'dashboards INVALID'}`,
    ].join('\n'),
  );
  return bad.length === 0 ? EXIT_OK : EXIT_FAILED;
}
