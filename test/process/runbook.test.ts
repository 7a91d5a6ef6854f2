import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';

/**
 * The runbook's "Daily Checks" and "Operational Controls" tables (shared/runbook-seed.md), run verbatim through
 * `sh -c` against the built Bosun (`dist/main.bundle.mjs`, what `npm start` runs: embedded simulator, paper mode), with
 * `OPS_API_TOKEN` and `EXTERNAL_EVENTS_SECRET` exported into the shell, each row checked against its pass
 * criterion. The shell and Bosun share one working directory, laid out like an operator's checkout: `.env`,
 * `ops/`, `state/`, and the repo's `Makefile` and `dist/` (symlinked) so `make …` runs as written.
 *
 * The only substitutions: the ports (8002/8003/8009/8011 → the ephemeral ports Bosun bound; for the Make targets,
 * which carry no port, `OPS_URL`/`ENGINE_URL` are exported instead) and the old paths, mapped as docs/RUNBOOK.md
 * does (PATHS below). `kill-$(date +%s)` collides for a kill and a resume inside one second (422, as documented):
 * a shimmed `date` gives the resume its own second, as a human operator's would.
 *
 * Not here:
 * - `make smoke-prom`, `http://localhost:9090/targets` and the two `:9090/api/v1/query` lines (strategy ingest
 *   rate, tick→order latency) need a real Prometheus: test/observability/prometheus.test.ts runs them verbatim.
 * - Grafana (Command Center, Trend Strategy Ops, health LEDs "in Grafana") and `docker compose logs -f executor`
 *   need Docker/Grafana. Bosun's equivalents run here: the panels' metrics on `/metrics` (`health_state`,
 *   `risk_depeg_active`, `trend_follow_*`, `symbol_scanner_score`), the executor's `GET /executor` and
 *   `GET /actors/executor`. The dashboards' JSON and PromQL are validated by `make validate-obs`
 *   (test/observability/prometheus.test.ts).
 *
 * Needs `curl`, `jq`, `openssl`, `xxd` and `make`: skipped when one is missing, failing with CI=true.
 */
const PATHS: ReadonlyArray<readonly [old: string, bosun: string]> = [
  ['engine/logs/', 'state/logs/'],
  ['engine/state/portfolio.json', 'state/portfolio.json'],
  ['data/runtime/', 'state/runtime/'],
  ['engine/models/', 'ops/'],
];

// ── the runbook's commands, character for character ──
const KILL = `curl -X POST http://localhost:8002/kill -H "X-Ops-Token: \${OPS_API_TOKEN}" -H "Idempotency-Key: kill-$(date +%s)" -d '{"enabled": false}'`;
const RESUME = KILL.replace('{"enabled": false}', '{"enabled": true}'); // "Same as above with {"enabled": true}"
const STATUS = 'curl http://localhost:8002/status | jq';
const WEIGHTS = `curl -X POST http://localhost:8002/strategy/weights -H "X-Ops-Token: \${OPS_API_TOKEN}" -H "Content-Type: application/json" -d '{"weights":{"stable_model":0.7,"canary_model":0.3}}'`;
const RECONCILE = 'curl -X POST http://localhost:8003/reconcile/manual';
const INJECT = `BODY='{"source":"test_harness","payload":{"symbol":"FOOUSDT"}}'; curl -X POST http://localhost:8003/events/external -H "Content-Type: application/json" -H "X-Events-Signature: sha256=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$EXTERNAL_EVENTS_SECRET" -binary | xxd -p -c 256)" -d "$BODY"`;
const ORDER = 'make order ORDER_SYMBOL=BTCUSDT.BINANCE ORDER_SIDE=BUY ORDER_QUOTE=25';
const STATE = 'curl http://localhost:8003/state | jq';
const ORDERS_TAIL = 'tail -n 20 engine/logs/orders.jsonl | jq';
const SMOKE_EXPORTER = 'make smoke-exporter';
const UNIVERSE_HEALTH = 'curl http://localhost:8009/health';
const SITUATIONS_HEALTH = 'curl http://localhost:8011/health';
const AUTO_TUNE_RM = 'rm data/runtime/trend_auto_tune.json'; // "Delete data/runtime/trend_auto_tune.json"
const SCANNER_TOUCH = 'touch data/runtime/symbol_scanner_state.json';
// Restart & Recovery "Validate" (run after the restart).
const READYZ = 'curl http://localhost:8003/readyz';
const VALIDATE = `curl http://localhost:8002/status | jq '.snapshot_loaded, .balances'`;
// docs/RUNBOOK.md's Bosun routes for the rows the seed left to a restart or "(TBD)".
const AUTO_TUNE_ROUTE = `curl -X POST http://localhost:8003/strategy/auto-tune/reset -H "X-Ops-Token: \${OPS_API_TOKEN}"`;
const RESCAN_ROUTE = `curl -X POST http://localhost:8003/scanner/rescan -H "X-Ops-Token: \${OPS_API_TOKEN}" -H "Idempotency-Key: rescan-$(date +%s)"`;
const EXECUTOR = 'curl http://localhost:8003/executor | jq';
const EXECUTOR_ACTOR = 'curl http://localhost:8003/actors/executor | jq';
const METRICS = 'curl -s http://localhost:8002/metrics';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'runbook-token-0123456789abcdef';
const SECRET = 'runbook-events-secret';
const TUNED = { fastBars: 5, slowBars: 60, entryZ: 1.2 };
const DEFAULTS = { fastBars: 8, slowBars: 34, entryZ: 0.5 };

const tools = ['curl', 'jq', 'openssl', 'xxd', 'make'].every((t) =>
  (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, t))),
);
if (!tools && process.env.CI === 'true') throw new Error('curl, jq, openssl, xxd and make are required in CI');

// biome-ignore lint/suspicious/noExplicitAny: the shell's answers are read as loose JSON and checked field by field
type Json = Record<string, any>;

interface Sh {
  stdout: string;
  stderr: string;
  code: number;
}

describe.skipIf(!tools)("the runbook's Daily Checks and Operational Controls, verbatim against npm start", () => {
  let bosun: BosunProcess;
  let op: string; // the operator's checkout: Bosun's cwd and the shell's
  let shimDir: string;
  let stateDir: string;
  let clock = 4_102_444_800; // a second no real `date +%s` of this run can print

  const port = (url: string) => new URL(url).port;
  const verbatim = (command: string) => {
    let cmd = command
      .replaceAll('localhost:8002', `localhost:${port(bosun.ops)}`)
      .replaceAll('localhost:8003', `localhost:${port(bosun.engine)}`)
      .replaceAll('localhost:8009', `localhost:${port(bosun.universe)}`)
      .replaceAll('localhost:8010', `localhost:${port(bosun.screener)}`)
      .replaceAll('localhost:8011', `localhost:${port(bosun.situations)}`);
    for (const [from, to] of PATHS) cmd = cmd.replaceAll(from, to);
    return cmd;
  };
  const sh = (command: string, opts: { ownSecond?: boolean } = {}) =>
    new Promise<Sh>((res) => {
      const env: NodeJS.ProcessEnv = {
        PATH: opts.ownSecond ? `${shimDir}:${process.env.PATH}` : process.env.PATH,
        HOME: process.env.HOME,
        USER: 'runbook-test',
        OPS_API_TOKEN: TOKEN,
        EXTERNAL_EVENTS_SECRET: SECRET,
        OPS_URL: bosun.ops,
        ENGINE_URL: bosun.engine,
        FAKE_EPOCH: String(opts.ownSecond ? clock++ : ''),
      };
      execFile('sh', ['-c', verbatim(command)], { cwd: op, env }, (err, stdout, stderr) =>
        res({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
      );
    });
  const json = async (command: string, opts?: { ownSecond?: boolean }) => {
    const r = await sh(command, opts);
    try {
      return JSON.parse(r.stdout) as Json;
    } catch {
      throw new Error(`not JSON from ${command} (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  };
  const metric = async (name: string, labels = ''): Promise<number[]> => {
    const text = (await sh(METRICS)).stdout;
    const re = new RegExp(
      `^${name}${labels ? `\\{[^}]*${labels.replace(/[{}]/g, '')}[^}]*\\}` : '(\\{[^}]*\\})?'} (\\S+)$`,
      'gm',
    );
    return [...text.matchAll(re)].map((m) => Number(m[m.length - 1]));
  };
  const symContext = async () =>
    (await json('curl -s "http://localhost:8003/actors/sym:binance:BTCUSDT?context=true"')).context as {
      hot: { ticks: number };
      env: { weights: Record<string, number>; calibration: Record<string, number>; trend: typeof TUNED };
    };
  const boot = async () => {
    bosun = await startBosun(
      {
        OPS_DIR: join(op, 'ops'),
        OPS_API_TOKEN: TOKEN,
        EXTERNAL_EVENTS_SECRET: SECRET,
        // Short intervals instead of waiting: the reload poll ("wait 60 s") and the bar the symbol actors see
        // ticks in (their "next tick"; too short for the strategies to warm up and trade during this file).
        CONFIG_POLL_SEC: '1',
        BAR_MS: '500',
      },
      stateDir,
      op,
    );
  };
  const restart = async () => {
    const exit = await bosun.stop('SIGTERM');
    expect(exit.code).toBe(0);
    await boot();
  };
  const logged = (from: number, pred: (l: Record<string, unknown>) => boolean) => bosun.lines.slice(from).find(pred);

  beforeAll(async () => {
    op = mkdtempSync(join(tmpdir(), 'bosun-runbook-'));
    stateDir = join(op, 'state');
    cpSync(join(ROOT, 'ops'), join(op, 'ops'), { recursive: true });
    // Paper mode: the simulator seeds 2 BTC and 20 ETH per account, above the shipped caps (docs/RUNBOOK.md), so
    // the operator raises them to see a test order accepted; policies.yaml may only tighten them.
    writeFileSync(join(op, 'ops', 'policies.yaml'), 'version: 1\n');
    writeFileSync(
      join(op, '.env'),
      'MAX_SYMBOL_EXPOSURE_USDT=10000000\nMAX_VENUE_EXPOSURE_USDT=10000000\nMAX_ASSET_EXPOSURE_USDT=10000000\n',
    );
    symlinkSync(join(ROOT, 'Makefile'), join(op, 'Makefile'));
    symlinkSync(join(ROOT, 'dist'), join(op, 'dist'));
    // A trend auto-tune state as the tuner would have left it (state/runtime/trend_auto_tune.json).
    mkdirSync(join(stateDir, 'runtime'), { recursive: true });
    writeFileSync(
      join(stateDir, 'runtime', 'trend_auto_tune.json'),
      JSON.stringify({ version: 1, params: TUNED, outcomes: [], seen: 5, adjustments: 1, updatedAt: Date.now() }),
    );
    shimDir = mkdtempSync(join(tmpdir(), 'bosun-clock-'));
    writeFileSync(join(shimDir, 'date'), '#!/bin/sh\necho "$FAKE_EPOCH"\n');
    chmodSync(join(shimDir, 'date'), 0o755);
    await boot();
  }, 30_000);
  afterAll(async () => {
    await bosun?.stop('SIGTERM');
  });

  // ── Daily Checks ──

  it('Engine & exporter metrics: make smoke-exporter — the six metrics non-empty, residual ≈ 0', async () => {
    const r = await sh(SMOKE_EXPORTER);
    expect(r.code, r.stderr).toBe(0);
    for (const m of [
      'equity_usd',
      'cash_usd',
      'market_value_usd',
      'metrics_heartbeat',
      'risk_equity_buffer_usd',
      'kraken_equity_usd',
    ])
      expect(r.stdout).toMatch(new RegExp(`^ok +${m} -?\\d`, 'm'));
    expect(r.stdout).toMatch(/^ok +residual /m);
    expect(r.stdout).toContain('smoke exporter: ok');
  });

  it('Universe/Situations services: curl :8009/health and :8011/health return {"ok": true}', async () => {
    expect(await json(UNIVERSE_HEALTH)).toEqual({ ok: true });
    expect(await json(SITUATIONS_HEALTH)).toEqual({ ok: true });
  });

  it('Health LEDs: health_state (0/1/2 per actor) and risk_depeg_active (0) on /metrics', async () => {
    const leds = await metric('health_state');
    expect(leds.length).toBeGreaterThan(5);
    for (const v of leds) expect([0, 1, 2]).toContain(v);
    for (const actor of ['conn:binance', 'conn:kraken', 'governance'])
      expect(await metric('health_state', `actor="${actor}"`)).toHaveLength(1);
    expect(await metric('risk_depeg_active')).toEqual([0]);
  });

  it('Alerting series exist from boot for every known label set (panels never say "No data")', async () => {
    for (const venue of ['binance', 'kraken']) {
      expect(await metric('venue_error_rate_pct', `venue="${venue}"`)).toHaveLength(1);
      expect(await metric('engine_venue_errors_total', `venue="${venue}",kind="rate_limit"`)).toHaveLength(1);
      expect(await metric('engine_venue_local_refusals_total', `venue="${venue}",priority="settlement"`)).toEqual([0]);
    }
    expect(await metric('stop_validator_missing_total', 'venue="binance",symbol="BTCUSDT"')).toHaveLength(1);
    for (const reason of ['depeg', 'funding', 'venue_breaker', 'equity_floor', 'venue_rejected'])
      expect(await metric('breaker_rejections_total', `reason="${reason}"`)).toHaveLength(1);
  });

  // ── Operational Controls ──

  it('Pause trading: the kill line → HALTED; /status and metrics_trading_enabled confirm; audited', async () => {
    const out = await json(KILL);
    expect(out).toMatchObject({ trading_enabled: false, trading_state: 'HALTED', audit: { seq: expect.any(Number) } });
    expect((await json(STATUS)).trading_enabled).toBe(false);
    expect(await metric('metrics_trading_enabled')).toEqual([0]);
    const audit = await json("curl -s 'http://localhost:8002/audit?limit=1'");
    expect(audit.records[0]).toMatchObject({ action: 'kill', target: 'global', seq: out.audit.seq });
  });

  it('Resume trading: same with {"enabled": true}; confirmed by /status and metrics_trading_enabled', async () => {
    const out = await json(RESUME, { ownSecond: true });
    expect(out).toMatchObject({ trading_enabled: true, trading_state: 'ACTIVE' });
    expect((await json(STATUS)).trading_enabled).toBe(true);
    expect(await metric('metrics_trading_enabled')).toEqual([1]);
  });

  it('Pause one venue with X-Ops-Actor: the audit log has the call-sign; global trading stays enabled', async () => {
    const halt = KILL.replace(
      '-d \'{"enabled": false}\'',
      '-H "X-Ops-Actor: alice" -d \'{"enabled": false, "venue": "kraken"}\'',
    );
    const out = await json(halt, { ownSecond: true });
    expect(out).toMatchObject({ trading_enabled: true, target: { scope: 'venue', key: 'kraken', state: 'HALTED' } });
    const audit = await json("curl -s 'http://localhost:8002/audit?limit=1'");
    expect(audit.records[0]).toMatchObject({ actor: 'alice', action: 'kill', target: 'venue:kraken' });
    const resume = halt.replace('"enabled": false', '"enabled": true');
    expect(await json(resume, { ownSecond: true })).toMatchObject({ target: { key: 'kraken', state: 'ACTIVE' } });
  });

  it('Adjust strategy weights: writes ops/strategy_weights.json; the symbol actors use it from the next tick', async () => {
    const out = await json(WEIGHTS);
    expect(out.weights).toEqual({ stable_model: 0.7, canary_model: 0.3 });
    const file = JSON.parse(readFileSync(join(op, 'ops', 'strategy_weights.json'), 'utf8'));
    expect(file).toEqual({ weights: { stable_model: 0.7, canary_model: 0.3 } });
    const at = await symContext();
    expect(at.env.weights).toEqual({ stable_model: 0.7, canary_model: 0.3 });
    await expect
      .poll(
        async () => {
          const c = await symContext();
          return c.hot.ticks > at.hot.ticks ? c.env.weights : undefined;
        },
        { timeout: 10_000 },
      )
      .toEqual({ stable_model: 0.7, canary_model: 0.3 });
  });

  it('Update HMM calibration: an edit of ops/hmm_calibration.json is applied within the reload interval', async () => {
    // "Edit engine/models/hmm_calibration.json (or HMM_CALIBRATION_PATH), wait 60 s": CONFIG_POLL_SEC=1 here.
    const path = join(
      op,
      PATHS.reduce((p, [from, to]) => p.replace(from, to), 'engine/models/hmm_calibration.json'),
    );
    const cal = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...cal, quote_multiplier: 0.4, cooldown_scale: 2 }));
    await expect
      .poll(async () => (await symContext()).env.calibration, { timeout: 10_000 })
      .toMatchObject({ quote_multiplier: 0.4, cooldown_scale: 2 });
    expect((await metric('config_reloads_total', 'file="hmm_calibration"'))[0]).toBeGreaterThan(0);
  });

  it('Inject external signal: the openssl line is accepted and published (external_feed_last_event_epoch)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const out = await json(INJECT);
    expect(out).toMatchObject({ accepted: true, id: expect.any(String) });
    const [epoch] = await metric('external_feed_last_event_epoch', 'source="test_harness"');
    expect(epoch).toBeGreaterThanOrEqual(before);
    expect(await metric('external_feed_events_total', 'source="test_harness"')).toEqual([1]);
  });

  let orderId: string | undefined;
  it('Submit a test order: make order … answers JSON, accepted (in /orders) or refused with a named rail reason', async () => {
    const r = await sh(ORDER);
    const out = JSON.parse(r.stdout) as Json;
    if (out.status === 'accepted') {
      orderId = out.order.clientOrderId;
      const listed = await json("curl -s 'http://localhost:8003/orders?limit=50'");
      expect(listed.orders.map((o: { clientOrderId: string }) => o.clientOrderId)).toContain(orderId);
      expect(out.order).toMatchObject({ venue: 'binance', symbol: 'BTCUSDT', side: 'buy', strategy: 'operator' });
    } else {
      expect(out.error.code).toBe('ORDER_REJECTED');
      expect(out.reason).toMatch(/^[a-z_]+$/);
    }
    // This checkout raised the paper caps: the order must pass every rail here.
    expect(out.status).toBe('accepted');
  });

  it('Fetch portfolio snapshot: curl /state | jq, and state/portfolio.json', async () => {
    const s = await json(STATE);
    expect(Object.keys(s.ledger.venues).sort()).toEqual(['binance', 'kraken']);
    expect(Math.abs(s.valuation.residualUsd)).toBeLessThan(1e-6);
    expect(s.valuation.equityUsd).toBeGreaterThan(0);
    // "or inspect engine/state/portfolio.json" (state/portfolio.json): the same document, written periodically.
    const file = await json('jq . engine/state/portfolio.json');
    expect(file.version).toBe(s.version);
    expect(Object.keys(file.ledger.venues).sort()).toEqual(['binance', 'kraken']);
  });

  it('View latest orders: tail -n 20 state/logs/orders.jsonl | jq shows the test order', async () => {
    expect(orderId).toBeDefined();
    await expect
      .poll(async () => {
        const r = await sh(ORDERS_TAIL);
        expect(r.code, r.stderr).toBe(0);
        // jq pretty-prints one document per line of the file: split them back.
        return [...r.stdout.matchAll(/"clientOrderId": "([^"]+)"/g)].map((m) => m[1]);
      })
      .toContain(orderId);
  });

  // Both read Kraken, whose private calls are paced (one at a time, a starter key's budget): after the Binance rows.
  it('Ops API status: curl /status | jq — trading_enabled true and balances populated', async () => {
    // Balances come from each venue's first account refresh, which may still be in flight right after ready.
    await expect
      .poll(async () => Object.keys((await json(STATUS)).balances ?? {}).sort(), { timeout: 15_000 })
      .toEqual(['binance', 'kraken']);
    const s = await json(STATUS);
    expect(s.trading_enabled).toBe(true);
    for (const venue of ['binance', 'kraken']) {
      expect(s.balances[venue].equity_usd).toBeGreaterThan(0);
      expect(Object.keys(s.balances[venue].assets).length).toBeGreaterThan(0);
    }
  });

  it('Trigger manual reconciliation: returns counts of fills applied', async () => {
    const first = await json(RECONCILE);
    expect(first.fills_applied).toEqual(expect.any(Number));
    for (const venue of ['binance', 'kraken'])
      expect(first.venues[venue]).toMatchObject({
        fillsApplied: expect.any(Number),
        ordersResolved: expect.any(Number),
        ordersAdopted: expect.any(Number),
        mismatches: [],
      });
  });

  it('Force trend auto-tune reset: the route puts the env defaults in force and deletes the file', async () => {
    const loaded = logged(0, (l) => l.msg === '[TREND-AUTO] loaded');
    expect(loaded).toMatchObject({ source: 'file', params: TUNED });
    expect((await symContext()).env.trend).toEqual(TUNED);
    const out = await json(AUTO_TUNE_ROUTE);
    expect(out).toEqual({ reset: true });
    expect(existsSync(join(stateDir, 'runtime', 'trend_auto_tune.json'))).toBe(false);
    await expect.poll(async () => (await symContext()).env.trend).toEqual(DEFAULTS);
  });

  it('Re-scan symbols with the scanner off says so (TRADE_SYMBOLS rules)', async () => {
    const out = await json(RESCAN_ROUTE);
    expect(out.enabled).toBe(false);
  });

  // ── one restart: flip feature flags in .env, delete the auto-tune state ──

  it('Flip feature flags + force trend auto-tune reset: edit .env, delete the state file, restart', async () => {
    expect((await json(EXECUTOR)).enabled).toBe(false);
    // The tuner left a state file again; the operator deletes it (the runbook's way) before the restart.
    writeFileSync(
      join(stateDir, 'runtime', 'trend_auto_tune.json'),
      JSON.stringify({ version: 1, params: TUNED, outcomes: [], seen: 5, adjustments: 1, updatedAt: Date.now() }),
    );
    expect((await sh(AUTO_TUNE_RM)).code).toBe(0);
    // "Start modules in dry-run where available": the executor in DRY_RUN, and the scanner.
    appendFileSync(join(op, '.env'), 'EXECUTOR_ENABLED=true\nDRY_RUN=true\nSYMBOL_SCANNER_ENABLED=true\n');
    await restart();
    expect(logged(0, (l) => l.msg === '[TREND-AUTO] loaded')).toMatchObject({ source: 'defaults', params: DEFAULTS });
    const ex = await json(EXECUTOR);
    expect(ex).toMatchObject({ enabled: true, dryRun: true });
    // Restart & Recovery "Validate" after the restart.
    expect(await json(READYZ)).toEqual({ ready: true });
    const [snapshotLoaded, balances] = (await sh(VALIDATE)).stdout.trim().split('\n');
    expect(snapshotLoaded).toBe('true');
    expect(balances).not.toBe('null');
  }, 20_000);

  it('Executor health (docker compose logs -f executor → GET /executor, /actors/executor): no retry loop', async () => {
    const ex = await json(EXECUTOR);
    expect(ex).toMatchObject({ enabled: true, failures: 0, attempt: 0, lastError: null });
    const actor = await json(EXECUTOR_ACTOR);
    expect(actor.health).not.toBe('HALTED');
    expect(actor.restarts).toBe(0);
  });

  it('docs/RUNBOOK.md: every curl names a real route (the read-only ones answer), every make target and bosun command exists', async () => {
    const doc = readFileSync(join(ROOT, 'docs/RUNBOOK.md'), 'utf8');
    const spans = [...doc.matchAll(/`(curl [^`]+)`|^ {2}(curl .+)$/gm)].map((m) =>
      (m[1] ?? m[2] ?? '').replaceAll('\\|', '|'),
    );
    const curls = [...new Set(spans)].filter((c) => /localhost:80(02|03|09|10|11)\//.test(c));
    expect(curls.length).toBeGreaterThan(30);
    const openapi = async (url: string) =>
      Object.entries(
        ((await (await fetch(`${url}/docs/json`)).json()) as { paths: Record<string, object> }).paths,
      ).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{[^}]+\}/g, '[^/]+')}`));
    const routes: Record<string, string[]> = { '8002': await openapi(bosun.ops), '8003': await openapi(bosun.engine) };
    for (const c of curls) {
      const [, portNo, path] = /localhost:(80\d\d)(\/[^\s'"?]*)/.exec(c) ?? [];
      const method = /-X POST/.test(c) ? 'POST' : 'GET';
      if (method === 'POST' || c.includes('curl -N')) {
        // Commands change state or stream forever: their route must exist (its own test runs it).
        expect(
          routes[portNo as string]?.some((r) => new RegExp(`^${r}$`).test(`${method} ${path}`)),
          `${method} ${path} on ${portNo}: ${c}`,
        ).toBe(true);
        continue;
      }
      const r = await sh(c);
      expect(r.code, `${c}\n${r.stderr}`).toBe(0);
      expect(r.stdout, c).not.toMatch(/"code":\s*"(NOT_FOUND|METHOD_NOT_ALLOWED|BAD_REQUEST|VALIDATION_FAILED)"/);
      expect(r.stdout.trim().length, c).toBeGreaterThan(0);
    }
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    const targets = [...makefile.matchAll(/^([a-z][a-z-]*):/gm)].map((m) => m[1]);
    for (const [, a, b] of doc.matchAll(/`make ([a-z][a-z-]+)|^ +make ([a-z][a-z-]+)/gm))
      expect(targets, a ?? b).toContain(a ?? b);
    // The usage text, with the backtest's lines kept apart from it (src/cli/backtest-usage.ts).
    const usage = ['src/cli/bosun.ts', 'src/cli/backtest-usage.ts']
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .join('\n');
    // A usage line starts the command at two spaces (after a newline, or opening the backtest's template).
    for (const [, cmd] of doc.matchAll(/npx bosun ([a-z-]+)/g))
      expect(usage, cmd).toMatch(new RegExp(`[\\n\`]  ${cmd} `));
  });

  it('Re-scan symbols: touch state/runtime/symbol_scanner_state.json → a fresh [SCAN] pass; POST /scanner/rescan', async () => {
    // The first pass runs at boot and writes the state file.
    await expect
      .poll(() => existsSync(join(stateDir, 'runtime', 'symbol_scanner_state.json')), { timeout: 10_000 })
      .toBe(true);
    await expect.poll(async () => (await json('curl -s http://localhost:8010/health')).ok).toBe(true);
    const from = bosun.lines.length;
    expect((await sh(SCANNER_TOUCH)).code).toBe(0);
    await expect
      .poll(() => logged(from, (l) => String(l.msg).startsWith('[SCAN]') && l.reason === 'state file touched'), {
        timeout: 10_000,
      })
      .toBeDefined();
    const before = (await json('curl -s http://localhost:8010/scan')).passes;
    // A pass the venue refuses (Kraken's public budget right after the touch's pass) is a 503 naming the reason;
    // the operator's retry gets the fresh pass.
    let out: Record<string, unknown> = {};
    await expect
      .poll(
        async () => {
          out = await json(RESCAN_ROUTE);
          return out.enabled === true || (out.error as { code?: string } | undefined)?.code;
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toBe(true);
    expect(out).toMatchObject({ enabled: true, shortlist: { binance: expect.any(Array) } });
    expect(out.passes).toBeGreaterThan(before);
    // Trend dashboards (docs/RUNBOOK.md's /metrics line): the trend counters are exported, symbol_scanner_score
    // shows the shortlist.
    const trend = (await sh("curl -s http://localhost:8003/metrics | grep -E 'trend_follow_|symbol_scanner_'")).stdout;
    for (const name of ['trend_follow_signals_total', 'trend_follow_trades_total', 'symbol_scanner_selected_total'])
      expect(trend).toContain(`# TYPE ${name} counter`);
    expect((await metric('symbol_scanner_score')).length).toBeGreaterThan(0);
    expect(await json(UNIVERSE_HEALTH)).toEqual({ ok: true });
  });
});
