import { parse } from './args.js';
import { type CliContext, CliFailure, call, EXIT_FAILED, EXIT_OK, emit, UsageError } from './cli-context.js';

/**
 * The runbook's Daily Checks as commands (`make smoke-exporter`, `make smoke-prom`).
 * - `smoke exporter`: GET /metrics; the daily-check gauges are present with finite values and the portfolio
 *   residual equity − (cash + market value) is ≈ 0 (relative 1e-9).
 * - `smoke prom`: Prometheus `/api/v1/targets`; the Bosun jobs are present and every active target is `up`.
 */
export const EXPORTER_METRICS = [
  'equity_usd',
  'cash_usd',
  'market_value_usd',
  'metrics_heartbeat',
  'risk_equity_buffer_usd',
  'kraken_equity_usd',
] as const;

/** The scrape jobs the runbook's Daily Check names (ops/observability/prometheus/prometheus.yml). */
export const PROM_JOBS = ['engine_binance', 'engine_kraken', 'ops'] as const;

export const RESIDUAL_TOLERANCE = 1e-9;

export interface Sample {
  name: string;
  labels: string;
  value: number;
}

/** The Prometheus text exposition format, samples only (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!m) continue;
    const v = m[3] as string;
    const value = v === '+Inf' ? Number.POSITIVE_INFINITY : v === '-Inf' ? Number.NEGATIVE_INFINITY : Number(v);
    out.push({ name: m[1] as string, labels: m[2] ?? '', value });
  }
  return out;
}

export interface ExporterVerdict {
  ok: boolean;
  metrics: Record<string, number | null>;
  residual: number | null;
  problems: string[];
}

/** The daily check over one scrape: every metric present and finite, and the residual within tolerance. */
export function checkExporter(text: string): ExporterVerdict {
  const samples = parseExposition(text);
  const problems: string[] = [];
  const metrics: Record<string, number | null> = {};
  for (const name of EXPORTER_METRICS) {
    const s = samples.filter((x) => x.name === name);
    if (s.length === 0) {
      metrics[name] = null;
      problems.push(`${name} is missing`);
    } else if (s.some((x) => !Number.isFinite(x.value))) {
      metrics[name] = null;
      problems.push(`${name} has no finite value`);
    } else metrics[name] = s.reduce((a, x) => a + x.value, 0);
  }
  let residual: number | null = null;
  const { equity_usd: eq, cash_usd: cash, market_value_usd: mv } = metrics;
  if (eq != null && cash != null && mv != null) {
    residual = eq - (cash + mv);
    if (Math.abs(residual) > RESIDUAL_TOLERANCE * Math.max(1, Math.abs(eq)))
      problems.push(`residual equity − (cash + market value) = ${residual} is not ≈ 0`);
  }
  return { ok: problems.length === 0, metrics, residual, problems };
}

interface PromTarget {
  labels?: Record<string, string>;
  health?: string;
  lastError?: string;
  scrapeUrl?: string;
}

export interface PromVerdict {
  ok: boolean;
  jobs: Record<string, { up: number; total: number }>;
  problems: string[];
}

export function checkTargets(targets: PromTarget[], required: readonly string[]): PromVerdict {
  const jobs: Record<string, { up: number; total: number }> = {};
  const problems: string[] = [];
  for (const t of targets) {
    const job = t.labels?.job ?? '?';
    jobs[job] ??= { up: 0, total: 0 };
    const j = jobs[job];
    j.total++;
    if (t.health === 'up') j.up++;
    else
      problems.push(`${job} ${t.scrapeUrl ?? ''} is ${t.health ?? 'unknown'}${t.lastError ? `: ${t.lastError}` : ''}`);
  }
  for (const job of required) if (!jobs[job]) problems.push(`job ${job} has no active target`);
  return { ok: problems.length === 0, jobs, problems };
}

export async function smoke(ctx: CliContext, args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (what === 'exporter') {
    const { values } = parse(rest, { url: { type: 'string' } });
    const url = values.url ?? `${ctx.engineUrl.replace(/\/+$/, '')}/metrics`;
    const { body } = await call(ctx, url, 'GET', '');
    const v = checkExporter(String(body));
    emit(ctx, { url, ...v }, () =>
      [
        ...EXPORTER_METRICS.map((n) => `${v.metrics[n] === null ? 'FAIL' : 'ok  '} ${n} ${v.metrics[n] ?? '(empty)'}`),
        `${v.residual !== null && !v.problems.some((p) => p.startsWith('residual')) ? 'ok  ' : 'FAIL'} residual ${v.residual}`,
        v.ok ? `smoke exporter: ok (${url})` : `smoke exporter: FAILED: ${v.problems.join('; ')}`,
      ].join('\n'),
    );
    return v.ok ? EXIT_OK : EXIT_FAILED;
  }
  if (what === 'prom') {
    const { values } = parse(rest, { jobs: { type: 'string' } });
    const required = values.jobs ? values.jobs.split(',').filter(Boolean) : PROM_JOBS;
    const { body } = await call(ctx, ctx.promUrl, 'GET', '/api/v1/targets?state=active');
    const targets = (body as { data?: { activeTargets?: PromTarget[] } } | null)?.data?.activeTargets;
    if (!Array.isArray(targets)) throw new CliFailure(`${ctx.promUrl}/api/v1/targets answered no activeTargets`);
    const v = checkTargets(targets, required);
    emit(ctx, { prometheus: ctx.promUrl, ...v }, () =>
      [
        ...Object.entries(v.jobs).map(([j, c]) => `${c.up === c.total ? 'up  ' : 'DOWN'} ${j} ${c.up}/${c.total}`),
        v.ok ? `smoke prom: ok (${ctx.promUrl})` : `smoke prom: FAILED: ${v.problems.join('; ')}`,
      ].join('\n'),
    );
    return v.ok ? EXIT_OK : EXIT_FAILED;
  }
  throw new UsageError(`smoke takes 'exporter' or 'prom', got '${what ?? ''}'`);
}
