#!/usr/bin/env node
import { errorMessage } from '../domain/errors.js';
import { BACKTEST_USAGE } from './backtest-usage.js';
import { type CliContext, CliFailure, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './cli-context.js';
import { golive } from './golive.commands.js';
import { audit, kill, order, reconcile, status, weights } from './ops.commands.js';
import { readOpsToken } from './ops-token.js';
import { smoke } from './smoke.commands.js';

/**
 * The `bosun` CLI (`npx bosun …` or `npm run bosun -- …`) and its composition root: the only CLI file that
 * reads `process.env` and `argv`. Operator commands talk to a running Bosun over HTTP (ops 8002, engine 8003);
 * each command group lives in its own module.
 */
const USAGE = `usage: bosun <command> [options]

  status                                  GET /status (ops)
  kill [--venue V] [--symbol S]           pause trading (POST /kill {"enabled": false})
  resume [--venue V] [--symbol S]         resume trading (POST /kill {"enabled": true})
  weights [show]                          GET /strategy/weights
  weights set --stable 0.7 --canary 0.3   POST /strategy/weights (also --set name=weight)
  order <SYMBOL.VENUE> <BUY|SELL> <quote> a test order through every rail (POST /orders, engine)
  reconcile                               POST /reconcile/manual (engine)
  depeg rearm [--note TEXT]               re-arm the depeg guard once parity has held (POST /guards/depeg/rearm)
  audit [--limit N] [--actor A] [--action X] [--since epochMs]
  golive                                  the staged go-live: stage, flags it wants, evidence (GET /golive; advisory)
  smoke exporter [--url URL]              the daily check's metrics non-empty and residual ≈ 0
  smoke prom [--jobs a,b,c]               Prometheus targets of the Bosun jobs are up
  backup [--out DIR]                      timestamped .tar.gz (LMDB copied consistently while running)
  restore <tarball> [--force] [--no-ops]  put a backup back into a fresh state dir (Bosun must be stopped)
  validate-dashboards <file.json…> [--promtool PATH]
${BACKTEST_USAGE}

global options: --ops-url URL (env OPS_URL, default http://127.0.0.1:8002)
                --engine-url URL (env ENGINE_URL, default http://127.0.0.1:8003)
                --prom-url URL (env PROM_URL, default http://localhost:9090)
                --state-dir DIR (env STATE_DIR, default state)  --ops-dir DIR (env OPS_DIR, default ops)
                --json (one JSON document on stdout)
token: OPS_API_TOKEN, else <state-dir>/ops_token; X-Ops-Actor: $USER
exit codes: 0 ok, 1 a failed check or a refused request, 2 a usage error`;

/**
 * The PERP_* flags from the env, parsed by the process's own schema (a bad value is the same error the process
 * would stop on), so a backtest trades what `PERP_STRATEGIES_ENABLED=true` would.
 */
async function perpFlags(env: NodeJS.ProcessEnv) {
  const { EnvShape } = await import('../config/env.schema.js');
  const read = <T>(name: keyof typeof EnvShape, schema: { safeParse(v: unknown): { success: boolean; data?: T } }) => {
    const raw = env[name] === '' ? undefined : env[name];
    const r = schema.safeParse(raw);
    if (!r.success) throw new UsageError(`${name}=${JSON.stringify(raw)} is not valid`);
    return r.data as T;
  };
  return {
    enabled: read<boolean>('PERP_STRATEGIES_ENABLED', EnvShape.PERP_STRATEGIES_ENABLED),
    leverage: read<number>('PERP_MAX_LEVERAGE', EnvShape.PERP_MAX_LEVERAGE),
    marginMode: read<'cross' | 'isolated'>('PERP_MARGIN_MODE', EnvShape.PERP_MARGIN_MODE),
    minLiqDistancePct: read<number>('PERP_MIN_LIQ_DISTANCE_PCT', EnvShape.PERP_MIN_LIQ_DISTANCE_PCT),
    maintMarginRate: read<number>('PERP_MAINT_MARGIN_RATE', EnvShape.PERP_MAINT_MARGIN_RATE),
  };
}

/** `bosun backtest`, loaded on demand (the strategy code and ccxt slow every other command's start). */
async function runBacktestCommand(
  opts: Record<string, string | true>,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { backtest } = await import('./backtest.js');
  const perp = await perpFlags(env);
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    return await backtest(
      {
        stateDir: String(opts['state-dir'] ?? env.STATE_DIR ?? 'state'),
        opsDir: String(opts['ops-dir'] ?? env.OPS_DIR ?? 'ops'),
        json: opts.json === true,
        perp,
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
        async gateway(venue, simUrl) {
          const { createGateway } = await import('../venues/index.js');
          // Public OHLCV needs no key: the real venue, or the simulator on loopback with --sim-url.
          const gw = createGateway(
            venue as 'binance' | 'kraken',
            simUrl ? { mode: 'paper', simBaseUrl: simUrl } : { mode: 'live' },
          );
          opened.push(gw);
          return gw;
        },
      },
      args,
    );
  } finally {
    await Promise.all(opened.map((g) => g.close()));
  }
}

/** Pulls the global options out of argv wherever they appear; the rest goes to the command. */
function globals(argv: string[]): { opts: Record<string, string | true>; rest: string[] } {
  const valued = new Set(['ops-url', 'engine-url', 'prom-url', 'state-dir', 'ops-dir']);
  const opts: Record<string, string | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] = a.startsWith('--') ? (a.slice(2).split(/=(.*)/s) as [string, string?]) : ['', undefined];
    if (valued.has(flag)) {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${flag} needs a value`);
      opts[flag] = v;
    } else if (flag === 'json' && inline === undefined) opts.json = true;
    else rest.push(a);
  }
  return { opts, rest };
}

async function main(argv: string[]): Promise<number> {
  const { opts, rest } = globals(argv);
  const [cmd, ...args] = rest;
  if (cmd === undefined || cmd === '--help' || cmd === 'help' || cmd === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return cmd === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const env = process.env;
  if (cmd === 'backtest') return runBacktestCommand(opts, args, env);
  const stateDir = String(opts['state-dir'] ?? env.STATE_DIR ?? 'state');
  const ctx: CliContext = {
    opsUrl: String(opts['ops-url'] ?? env.OPS_URL ?? 'http://127.0.0.1:8002'),
    engineUrl: String(opts['engine-url'] ?? env.ENGINE_URL ?? 'http://127.0.0.1:8003'),
    promUrl: String(opts['prom-url'] ?? env.PROM_URL ?? 'http://localhost:9090'),
    stateDir,
    opsDir: String(opts['ops-dir'] ?? env.OPS_DIR ?? 'ops'),
    token: readOpsToken(stateDir, env.OPS_API_TOKEN, env.OPS_TOKEN_PATH),
    actor: env.OPS_ACTOR || env.USER || 'ops',
    json: opts.json === true,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  };
  for (const k of ['opsUrl', 'engineUrl', 'promUrl'] as const)
    if (!/^https?:\/\/[^/\s]+/.test(ctx[k])) throw new UsageError(`${k} must be an http(s) URL, got '${ctx[k]}'`);
  switch (cmd) {
    case 'status':
      return status(ctx, args);
    case 'kill':
      return kill(ctx, args, false);
    case 'resume':
      return kill(ctx, args, true);
    case 'weights':
      return weights(ctx, args);
    case 'order':
      return order(ctx, args);
    case 'reconcile':
      return reconcile(ctx, args);
    case 'audit':
      return audit(ctx, args);
    case 'golive':
      return golive(ctx, args);
    case 'smoke':
      return smoke(ctx, args);
    // Loaded on demand: LMDB and prom-client would slow every other command's start.
    case 'backup':
      return (await import('./backup.commands.js')).backup(ctx, args);
    case 'restore':
      return (await import('./backup.commands.js')).restore(ctx, args);
    case 'depeg':
      return (await import('./depeg-rearm.js')).depeg(ctx, args);
    case 'validate-dashboards':
      return (await import('./dashboards.commands.js')).validateDashboards(ctx, args);
    default:
      throw new UsageError(`unknown command '${cmd}' (bosun --help lists them)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CliFailure) {
      process.stderr.write(`bosun: ${e.message}\n`);
      if (process.argv.includes('--json') && e.body !== undefined) process.stdout.write(`${JSON.stringify(e.body)}\n`);
      process.exitCode = EXIT_FAILED;
    } else {
      process.stderr.write(`bosun: ${errorMessage(e)}\n`);
      if (e instanceof UsageError) process.stderr.write('(bosun --help lists the commands and options)\n');
      process.exitCode = EXIT_USAGE;
    }
  },
);
