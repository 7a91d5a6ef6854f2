import { parseActorId } from '../domain/ids.js';
import type { ActorNode, RuntimePort } from '../supervisor/runtime-port.js';
import type { Situation, SituationsPort } from '../supervisor/situations-port.js';

/**
 * Active incidents for `GET /situations` (DESIGN §2, port 8011): every leaf actor whose health is not OK (the
 * breakers, guards — depeg, funding, stop validator —, feeds, conns, scanner, executor: each is an actor with a
 * health region, so a new guard shows up here without code), every supervised child that is down, and every
 * trading-state halt. Supervisors are not listed: their health is their children's roll-up, which is listed.
 * `since` is the time the tracker first saw the (state, reason) pair: it samples every `sampleMs` and on each
 * read, so it is the transition time within one sample period; trading halts carry their own time.
 */
export const WHAT_TO_DO: Record<string, string> = {
  breaker:
    'Circuit breaker tripped: confirm via /metrics (venue_error_rate_pct, risk_equity_floor_breach, risk_equity_buffer_usd, risk_equity_drawdown_pct) and the engine logs; pause trading (POST /kill) and investigate the venue API or the equity change; once stable reset it (POST /breakers/<id>/reset; the equity breaker also resets after EQUITY_COOLDOWN_SEC once the buffer is > 0); resume gradually (lower MAX_NOTIONAL_USDT, adjust strategy weights).',
  depeg:
    'Depeg detected: new entries are halted (DEPEG_EXIT_RISK=true also reduces existing USDT exposure). Validate the peg via USDTUSDC and the BTCUSDT/BTCUSDC parity; after the cooldown and a manual validation re-arm it (the manual helper) or wait for the daily reset.',
  funding:
    'Funding spike: affected perpetual positions are trimmed automatically (FUNDING_GUARD_ENABLED); confirm the trims in orders.jsonl and the funding panels; consider a BTC hedge (FUNDING_HEDGE_RATIO) if trims are frequent.',
  stop: 'Missing server-side stop: check stop_validator_missing_total; with STOP_VALIDATOR_REPAIR=true it is placed again; investigate the root cause (order rejection, symbol limits) and make sure protection survives reconnects.',
  feed: 'Stale feed: prices from this venue are old, so its symbols trade on stale data; check conn:<venue> and the venue status; the feed restarts under its supervisor, and a venue that stays down should be halted (POST /kill scope venue).',
  conn: 'Venue connectivity degraded: check the error rate, rate budget and clock offset in GET /actors/conn:<venue>; upstream API issues clear on their own; persistent auth/ban errors need the API keys or IP checked.',
  account:
    'Account sync failing: balances and positions may be stale; check the venue API and run POST /reconcile/manual once it answers.',
  scanner:
    'Universe / screener stale: curl :8009/universe and :8010/scan; force a pass with POST /scanner/rescan (or touch state/runtime/symbol_scanner_state.json) and check the [SCAN] logs; the last shortlist stays in force meanwhile.',
  executor:
    'Executor failing: check engine health; throttle it via EXEC_INTERVAL_SEC or DRY_RUN=true, or stop it (make executor-down, i.e. POST /executor/stop). Retries are bounded: it waits for the next interval.',
  trading:
    'Trading halted or reducing at this scope: GET /status shows who set it and why; fix the cause, then resume (POST /kill with enabled=true for global, or the scope command).',
  down: 'Actor down or restarting: GET /actors/<id> shows the last error; the supervisor restarts it within its intensity; a repeated crash escalates to its parent.',
  default: 'Inspect GET /actors/<id> and the engine logs.',
};

function kindOf(id: string): string {
  const { kind, key } = parseActorId(id);
  if (kind === 'guard') {
    const name = key.split(':')[0] ?? '';
    if (name.includes('depeg')) return 'depeg';
    if (name.includes('funding')) return 'funding';
    if (name.includes('stop')) return 'stop';
    return name || 'guard';
  }
  if (kind.includes('stop')) return 'stop';
  return kind;
}

export function createSituations(opts: {
  runtime: () => Pick<RuntimePort, 'tree' | 'governance'> | undefined;
  now?: () => number;
  sampleMs?: number;
}): SituationsPort & { start(): void; stop(): void } {
  const now = opts.now ?? Date.now;
  const seen = new Map<string, { key: string; since: number }>();
  let timer: NodeJS.Timeout | undefined;

  function current(): Array<Omit<Situation, 'since'> & { since?: number }> {
    const rt = opts.runtime();
    if (!rt) return [];
    const out: Array<Omit<Situation, 'since'> & { since?: number }> = [];
    const walk = (n: ActorNode) => {
      const isRoot = n.liveness === 'root';
      if (!isRoot && n.liveness !== 'running') {
        out.push({
          id: n.id,
          kind: kindOf(n.id),
          state: n.liveness,
          reason: n.lastError ?? n.reason,
          whatToDo: WHAT_TO_DO.down as string,
        });
      } else if (n.children.length === 0 && n.health !== 'OK') {
        const kind = kindOf(n.id);
        out.push({
          id: n.id,
          kind,
          state: n.health,
          reason: n.reason,
          whatToDo: WHAT_TO_DO[kind] ?? (WHAT_TO_DO.default as string),
        });
      }
      for (const c of n.children) walk(c);
    };
    walk(rt.tree());
    const g = rt.governance();
    const scopes: Array<[string, typeof g.global]> = [
      ['trading:global', g.global],
      ...Object.entries(g.venues).map(([v, s]) => [`trading:venue:${v}`, s] as [string, typeof g.global]),
      ...Object.entries(g.symbols).map(([k, s]) => [`trading:symbol:${k}`, s] as [string, typeof g.global]),
    ];
    for (const [id, s] of scopes) {
      if (s.state === 'ACTIVE') continue;
      out.push({
        id,
        kind: 'trading',
        state: s.state,
        reason: `${s.reason} (by ${s.by})`,
        since: s.at,
        whatToDo: WHAT_TO_DO.trading as string,
      });
    }
    return out;
  }

  function sample(): Situation[] {
    const t = now();
    const list = current();
    const ids = new Set<string>();
    const result: Situation[] = [];
    for (const s of list) {
      ids.add(s.id);
      const key = `${s.state}|${s.reason}`;
      const prev = seen.get(s.id);
      const since = s.since ?? (prev && prev.key === key ? prev.since : t);
      seen.set(s.id, { key, since });
      result.push({ ...s, since });
    }
    for (const id of [...seen.keys()]) if (!ids.has(id)) seen.delete(id);
    result.sort((a, b) => a.since - b.since || a.id.localeCompare(b.id));
    return result;
  }

  return {
    list: sample,
    start() {
      if (timer) return;
      timer = setInterval(() => {
        try {
          sample();
        } catch {
          // The tree is being rebuilt (shutdown): the next read samples again.
        }
      }, opts.sampleMs ?? 1_000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
