import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { until } from '../trading/support.js';

/**
 * DESIGN §12 "real components": Debian's promtool checks the shipped scrape config and alert rules, and a real
 * Prometheus scrapes a built Bosun (`dist/main.bundle.mjs`, what `npm start` runs) with the shipped config — same job
 * names and relabelling, only the targets (Bosun's ephemeral ports), a 1 s scrape interval and the rule path
 * differ. Then the runbook's Daily Check query runs verbatim (port substituted) and `make smoke-prom` /
 * `make smoke-exporter` pass. Skipped when the binaries are missing; with CI=true that fails instead.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const OBS = join(ROOT, 'ops/observability/prometheus');
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const run = promisify(execFile);

const tools = [PROMETHEUS, PROMTOOL, '/usr/bin/curl', '/usr/bin/jq', '/usr/bin/make'].every((p) => existsSync(p));
if (!tools && process.env.CI === 'true') throw new Error('prometheus, promtool, curl, jq and make are required in CI');
if (!tools) console.warn('skipping the Prometheus tests: prometheus/promtool/curl/jq/make not installed');

/** The runbook's other Prometheus lines ("Tick→order latency" and "Observability Routines"), verbatim. */
const OTHER_QUERIES = [
  `curl -G --data-urlencode 'query=histogram_quantile(0.95, rate(strategy_tick_to_order_latency_ms_bucket[5m]))' http://localhost:9090/api/v1/query | jq`,
  `curl -fsS -G --data-urlencode 'query=increase(orders_submitted_total[5m])' http://localhost:9090/api/v1/query`,
  `curl -fsS -G --data-urlencode 'query=histogram_quantile(0.5, rate(strategy_tick_to_order_latency_ms_bucket[5m]))' http://localhost:9090/api/v1/query`,
];

/** The runbook's "Strategy ingest rate" Daily Check, character for character. */
const INGEST = `curl -G --data-urlencode 'query=rate(strategy_ticks_total{venue="binance"}[1m])' http://localhost:9090/api/v1/query | jq`;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

describe.skipIf(!tools)('promtool on the shipped files', () => {
  it('passes check config (which loads the rules) and check rules', async () => {
    const config = await run(PROMTOOL, ['check', 'config', join(OBS, 'prometheus.yml')]);
    expect(config.stdout).toContain('SUCCESS: 1 rule files found');
    const rules = await run(PROMTOOL, ['check', 'rules', join(OBS, 'rules/alerts.rules.yml')]);
    expect(rules.stdout).toMatch(/SUCCESS: \d+ rules found/);
    // The runbook's ExternalFeedStale rule, as the runbook writes it.
    const text = readFileSync(join(OBS, 'rules/alerts.rules.yml'), 'utf8');
    expect(text).toContain(
      '      - alert: ExternalFeedStale\n        expr: time() - external_feed_last_event_epoch{source=~".*"} > 300\n        for: 10m\n',
    );
  });

  it('make validate-obs passes on the shipped config, rules and dashboards', async () => {
    const { stdout } = await run('make', ['-s', 'validate-obs', `PROMTOOL=${PROMTOOL}`], { cwd: ROOT });
    expect(stdout).toMatch(/\d+ PromQL expressions parsed by promtool; dashboards valid/);
  });
});

describe.skipIf(!tools)('a real Prometheus scraping Bosun', () => {
  let bosun: BosunProcess;
  let prom: ChildProcess | undefined;
  let promUrl: string;
  let promPort: number;
  let promLog = '';

  beforeAll(async () => {
    bosun = await startBosun({ FEED_POLL_MS: '250' });
    const engine = new URL(bosun.engine).host;
    const ops = new URL(bosun.ops).host;
    const dir = mkdtempSync(join(tmpdir(), 'bosun-prom-'));
    const config = readFileSync(join(OBS, 'prometheus.yml'), 'utf8')
      .replaceAll("'engine:8003'", `'${engine}'`)
      .replaceAll("'engine:8002'", `'${ops}'`)
      .replace('scrape_interval: 15s', 'scrape_interval: 1s')
      .replace('evaluation_interval: 15s', 'evaluation_interval: 1s')
      .replace('  - rules/*.rules.yml', `  - ${join(OBS, 'rules')}/*.rules.yml`);
    expect(config).not.toContain('engine:80');
    writeFileSync(join(dir, 'prometheus.yml'), config);
    promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        // As compose.yaml runs it, so `make prom-reload` works.
        '--web.enable-lifecycle',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr?.on('data', (d) => {
      promLog = (promLog + String(d)).slice(-4000);
    });
    await until('prometheus ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined)).catch(
      (e) => {
        throw new Error(`${String(e)}\n${promLog}`);
      },
    );
  }, 40_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom?.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    await bosun?.stop();
  });

  it('sees every Bosun job up, then the runbook ingest query is > 0 for binance', async () => {
    // Prometheus 2.42 applies discovered targets on a fixed 5 s tick: the first scrape comes ~5 s after start.
    const targets = await until('all targets up', async () => {
      const j = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as {
        data: { activeTargets: Array<{ labels: { job: string }; health: string }> };
      };
      const t = j.data.activeTargets;
      return t.length === 4 && t.every((x) => x.health === 'up') ? t : undefined;
    });
    expect(targets.map((t) => t.labels.job).sort()).toEqual([
      'bosun_exporter',
      'engine_binance',
      'engine_kraken',
      'ops',
    ]);

    const cmd = INGEST.replaceAll('localhost:9090', `localhost:${promPort}`);
    const result = await until('a positive ingest rate', async () => {
      const { stdout } = await run('bash', ['-c', cmd], { env: { PATH: process.env.PATH } });
      const body = JSON.parse(stdout) as {
        status: string;
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      expect(body.status).toBe('success');
      const r = body.data.result;
      return r.length > 0 && r.every((x) => Number(x.value[1]) > 0) ? r : undefined;
    });
    // Only engine_binance carries venue="binance" series: each symbol's rate appears once.
    expect(new Set(result.map((r) => r.metric.job))).toEqual(new Set(['engine_binance']));
    expect(new Set(result.map((r) => r.metric.symbol)).size).toBe(result.length);
  });

  it("answers the runbook's latency and order queries (vectors, possibly empty: no orders were placed)", async () => {
    for (const q of OTHER_QUERIES) {
      const { stdout } = await run('bash', ['-c', q.replaceAll('localhost:9090', `localhost:${promPort}`)], {
        env: { PATH: process.env.PATH },
      });
      const body = JSON.parse(stdout) as { status: string; data: { resultType: string; result: unknown[] } };
      expect(body.status, q).toBe('success');
      expect(body.data.resultType, q).toBe('vector');
    }
  });

  it('make smoke-prom and make smoke-exporter pass against it', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const prom = await run('make', ['-s', 'smoke-prom', `PROM_URL=${promUrl}`], { cwd: ROOT, env });
    expect(prom.stdout).toContain(`smoke prom: ok (${promUrl})`);
    expect(prom.stdout).toMatch(/^up {3}engine_kraken 1\/1$/m);
    const exp = await run('make', ['-s', 'smoke-exporter', `ENGINE_URL=${bosun.engine}`], { cwd: ROOT, env });
    expect(exp.stdout).toContain('smoke exporter: ok');
    expect(exp.stdout).toMatch(/^ok {3}kraken_equity_usd \d/m);
  });

  it('make prom-reload reloads the config and rules', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const r = await run('make', ['-s', 'prom-reload', `PROM_URL=${promUrl}`], { cwd: ROOT, env });
    expect(r.stdout).toContain(`prometheus at ${promUrl} reloaded its config and rules`);
    const status = (await (await fetch(`${promUrl}/api/v1/status/runtimeinfo`)).json()) as {
      data: { reloadConfigSuccess: boolean };
    };
    expect(status.data.reloadConfigSuccess).toBe(true);
  });

  it('smoke prom fails (exit 1) when a required job has no target', async () => {
    const r = await run(process.execPath, [
      join(ROOT, 'dist/cli/bosun.js'),
      'smoke',
      'prom',
      '--prom-url',
      promUrl,
      '--jobs',
      'engine_binance,engine_okx',
    ]).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('smoke prom: FAILED: job engine_okx has no active target');
  });

  it('loads the shipped alert rules and evaluates them without error', async () => {
    type Rules = {
      data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const rules = await until('every rule evaluated', async () => {
      const k = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as Rules;
      const all = k.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health === 'ok') ? all : undefined;
    });
    expect(rules.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'ExternalFeedStale',
        'DepegActive',
        'MetricsHeartbeatStale',
        'TickToOrderLatencyP95High',
      ]),
    );
  });
});
