import type { Registry } from 'prom-client';
import { type GoLiveEvidence, type GoLiveReport, goLiveReport } from '../domain/golive.js';
import type { KvStore } from '../store/index.js';

/**
 * `bosun golive` / `GET /golive`: the go-live clock and the evidence behind the runbook's staged steps, read from
 * what Bosun already keeps. Read-only: it never writes a flag, and the only thing it stores is the clock's start
 * (LMDB kv `golive:start`) the first time live trading starts, unless `GOLIVE_START_AT` configures it.
 *
 * Evidence sources, each optional ("no data" without it):
 * - `order_slippage_bps` histogram (labels venue, market, symbol, side, strategy, liquidity): futures taker fills;
 * - `maker` (the source of `GET /maker`): shadow fill rate and price improvement;
 * - the funding guards' views and the funding strategy's orders: trims and whether any failed;
 * - the audit log's `depeg.rearm` entries: the depeg synthetic test (trip in paper mode, validate, re-arm).
 */
export const GOLIVE_START_KEY = 'golive:start';

/** Perpetual market labels as slippage metrics spell them. */
const FUTURES_MARKETS = new Set(['linear', 'perp', 'perpetual', 'futures', 'swap', 'usdm']);

export interface MakerShadowSource {
  shadow(): { samples: number; fillRatePct: number; improvementBps: number } | null;
}

export interface GoLiveDeps {
  config: Record<string, unknown> & { MODE: string; GOLIVE_START_AT?: string | undefined };
  kv: Pick<KvStore, 'get' | 'put'>;
  registry: Registry;
  now: () => number;
  guards?: () => Array<{ kind: string; state: Record<string, unknown> }>;
  fundingOrders?: () => Array<{ strategy: string; status: string }>;
  audit?: (q: {
    limit: number;
    action: string;
  }) =>
    | ReadonlyArray<{ ts: number; actor: string; result: string }>
    | Promise<ReadonlyArray<{ ts: number; actor: string; result: string }>>;
  maker?: MakerShadowSource;
}

/** Futures taker fills in `order_slippage_bps`, or null (no histogram, no such fills). */
export async function futuresTakerSlippage(registry: Registry): Promise<GoLiveEvidence['futuresTakerSlippage']> {
  const m = registry.getSingleMetric('order_slippage_bps');
  if (!m) return null;
  const got = await m.get();
  let sum = 0;
  let count = 0;
  for (const v of got.values) {
    const l = v.labels as Record<string, string | number | undefined>;
    if (String(l.liquidity) !== 'taker' || !FUTURES_MARKETS.has(String(l.market))) continue;
    const name = (v as { metricName?: string }).metricName;
    if (name === 'order_slippage_bps_sum') sum += v.value;
    else if (name === 'order_slippage_bps_count') count += v.value;
  }
  return count > 0 ? { count, meanBps: sum / count } : null;
}

export function createGoLive(deps: GoLiveDeps) {
  const configured = deps.config.GOLIVE_START_AT === undefined ? Number.NaN : Date.parse(deps.config.GOLIVE_START_AT);

  function start(): { at: number; source: 'config' | 'first_live_start' } | null {
    if (Number.isFinite(configured)) return { at: configured, source: 'config' };
    const kept = deps.kv.get<{ at: number }>(GOLIVE_START_KEY);
    return kept && typeof kept.at === 'number' ? { at: kept.at, source: 'first_live_start' } : null;
  }

  async function evidence(): Promise<GoLiveEvidence> {
    const guards = deps.guards?.().filter((g) => g.kind === 'funding') ?? [];
    const orders = deps.fundingOrders?.().filter((o) => o.strategy === 'funding') ?? [];
    const rearms = deps.audit ? await deps.audit({ limit: 20, action: 'depeg.rearm' }) : [];
    const ok = rearms.find((r) => /^(ok|success|accepted|2\d\d)/i.test(r.result));
    return {
      futuresTakerSlippage: await futuresTakerSlippage(deps.registry),
      makerShadow: deps.maker?.shadow() ?? null,
      funding:
        guards.length === 0
          ? null
          : {
              trims: guards.reduce((a, g) => a + (Number(g.state.trims) || 0), 0),
              hedges: guards.reduce((a, g) => a + (Number(g.state.hedges) || 0), 0),
              ordersFilled: orders.filter((o) => o.status === 'filled').length,
              ordersFailed: orders.filter((o) => o.status === 'rejected' || o.status === 'unknown').length,
              pollErrors: guards.map((g) => g.state.pollError).filter((e): e is string => typeof e === 'string'),
            },
      depegTest: ok ? { at: ok.ts, how: `depeg guard re-armed by ${ok.actor} (audit depeg.rearm)` } : null,
    };
  }

  return {
    /** Live trading started (boot recovery done in MODE=live): starts the clock once, unless configured. */
    async noteTradingStarted(): Promise<void> {
      if (deps.config.MODE !== 'live' || Number.isFinite(configured) || deps.kv.get(GOLIVE_START_KEY) !== undefined)
        return;
      await deps.kv.put(GOLIVE_START_KEY, { at: deps.now(), mode: 'live' });
    },
    async report(): Promise<GoLiveReport> {
      return goLiveReport({ now: deps.now(), start: start(), running: deps.config, evidence: await evidence() });
    },
  };
}

export type GoLive = ReturnType<typeof createGoLive>;
