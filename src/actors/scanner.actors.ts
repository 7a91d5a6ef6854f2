import { readFileSync, statSync } from 'node:fs';
import { type AnyActorRef, fromCallback } from 'xstate';
import { z } from 'zod';
import { AppError, errorMessage } from '../domain/errors.js';
import { actorId } from '../domain/ids.js';
import type { Logger } from '../logging/logger.js';
import { type ScannerContext, scannerMachine } from '../machines/scanner.machine.js';
import type { Metrics } from '../metrics/metrics.js';
import { dropSymbolSeries } from '../metrics/prime.js';
import {
  formatScanLine,
  type ScanInput,
  type SymbolScore,
  scoreSymbols,
  shortlist,
  shortlistDiff,
} from '../strategies/symbol-scanner.js';
import type { ChildSpec } from '../supervisor/policy.js';
import type { MarketFilterView, ScannerPort, ScanView } from '../supervisor/scanner-port.js';
import type { VenueGateway } from '../venues/venue-gateway.js';
import { writeFileAtomicAsync } from './atomic-file.js';
import { poll, realSleep, type Sleep } from './retry.js';

/** Shortlisted symbols whose `symbol_scanner_score{venue,symbol}` series is exported, per venue. */
type ScoredSeries = Map<string, Set<string>>;

/**
 * `symbol_scanner_score{venue,symbol}` covers the shortlist: scores of the symbols on it, and the series of
 * symbols that left it removed (a stale score of a dropped symbol would read as a candidate on the dashboard).
 */
function publishShortlistScores(
  metrics: Pick<Metrics, 'scannerScore'>,
  scored: ScoredSeries,
  venue: string,
  list: readonly string[],
  scores: readonly SymbolScore[],
): void {
  const byName = new Map(scores.map((s) => [s.symbol, s.score]));
  const now = new Set<string>();
  for (const symbol of list) {
    const score = byName.get(symbol);
    if (score === undefined) continue;
    metrics.scannerScore.set({ venue, symbol }, score);
    now.add(symbol);
  }
  for (const symbol of scored.get(venue) ?? []) if (!now.has(symbol)) metrics.scannerScore.remove({ venue, symbol });
  scored.set(venue, now);
}

/**
 * The symbol scanner's effects (DESIGN §3, §8): every interval it scores each venue's tradable spot symbols from
 * one ticker batch plus the prices it kept from earlier passes, logs `[SCAN]`, exports `symbol_scanner_score`,
 * persists the shortlist to `state/runtime/symbol_scanner_state.json` atomically, and makes the live symbol actors
 * under `symbols:<venue>` match it. A removed symbol is drained: its actor stops first (no new signal), then its
 * resting entry orders are cancelled; reduce-only orders (stops) and the position are left alone. Symbols with an
 * open position or a protective order are always kept. Touching (or deleting) the state file or `rescan()` forces
 * a pass. Disabled, nothing here changes the symbol set: `TRADE_SYMBOLS` rules.
 */
const PRICE_SAMPLES = 30;
/** Symbols handled per macrotask: a pass over 1,000 symbols yields to the loop between chunks. */
const CHUNK = 200;

export const ScannerStateSchema = z.object({
  version: z.literal(1),
  passAt: z.number(),
  venues: z.record(
    z.string(),
    z.object({
      shortlist: z.array(z.string()),
      scores: z.array(
        z.object({
          symbol: z.string(),
          score: z.number(),
          volume: z.number(),
          volatility: z.number(),
          trend: z.number(),
        }),
      ),
    }),
  ),
});
export type ScannerState = z.infer<typeof ScannerStateSchema>;

export interface ScannerDeps {
  enabled: boolean;
  intervalMs: number;
  topN: number;
  statePath: string;
  /** How often the state file's mtime is checked (operator touch → fresh pass). */
  filePollMs?: number;
  venues: readonly string[];
  gateway: (venue: string) => VenueGateway | undefined;
  /** Policy and quote filters a candidate must pass (ops/policies.yaml's allow/block lists). */
  candidate: (venue: string, symbol: string) => boolean;
  /** Symbols that must keep their actor: an open position or a protective (reduce-only) order. */
  protectedSymbols: (venue: string) => Iterable<string>;
  /** The symbol set the feed polls and the engine follows. */
  liveSymbols: (venue: string) => readonly string[];
  setLiveSymbols: (venue: string, symbols: readonly string[]) => void;
  /** The child spec of a symbol actor (buildSymbolsSupervisor's). */
  symbolSpec: (venue: string, symbol: string) => ChildSpec;
  /** A symbol joined the shortlist and its actor was asked to start (history warm-up). */
  onSymbolAdded?: (venue: string, symbol: string) => void;
  /** Cancels the symbol's resting entry orders; resolves with how many. */
  drain: (venue: string, symbol: string) => Promise<number>;
  lookup: (systemId: string) => AnyActorRef | undefined;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
  /** Runs a chunk of work in its own macrotask (setImmediate): a pass never blocks the loop for long. */
  yieldToLoop?: () => Promise<void>;
  /** Waits between checks that a stopped symbol actor is gone (injected in tests). */
  sleep?: Sleep;
}

interface SupCtx {
  order: string[];
  specs: Record<string, unknown>;
  kids: Record<string, { liveness: string } | undefined>;
}

type LoadResult =
  | { source: 'file'; state: ScannerState }
  | { source: 'missing' }
  | { source: 'corrupt'; warning: string };

export function loadScannerState(path: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { source: 'missing' };
  }
  try {
    const r = ScannerStateSchema.safeParse(JSON.parse(text));
    if (!r.success) return { source: 'corrupt', warning: r.error.issues.map((i) => i.message).join('; ') };
    return { source: 'file', state: r.data };
  } catch (e) {
    return { source: 'corrupt', warning: errorMessage(e) };
  }
}

function mtimeOf(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

export function createScanner(deps: ScannerDeps) {
  const log = deps.log.child({ actor: actorId.scanner() });
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? realSleep;
  const yieldToLoop = deps.yieldToLoop ?? (() => new Promise<void>((r) => setImmediate(r)));
  const prices = new Map<string, number[]>();
  let view: ScanView = { enabled: deps.enabled, passAt: null, passes: 0, venues: {} };
  const scored: ScoredSeries = new Map();
  const publishScores = (venue: string, list: readonly string[], scores: readonly SymbolScore[]) =>
    publishShortlistScores(deps.metrics, scored, venue, list, scores);
  let ownMtime: number | null = null;
  let running: Promise<ScanView> | null = null;
  let rerun = false;

  // ── boot: the persisted shortlist is the starting set; a corrupt file means a fresh pass, never a crash ──
  const loaded = deps.enabled ? loadScannerState(deps.statePath) : ({ source: 'missing' } as const);
  if (loaded.source === 'corrupt')
    log.warn({ path: deps.statePath, warning: loaded.warning }, '[SCAN] state file corrupt: a fresh pass replaces it');
  if (loaded.source === 'file') {
    view = { enabled: true, passAt: loaded.state.passAt, passes: 0, venues: loaded.state.venues };
    ownMtime = mtimeOf(deps.statePath);
  }
  /** The symbols a venue boots with: the persisted shortlist when enabled and readable, else TRADE_SYMBOLS. */
  function bootSymbols(venue: string, fallback: readonly string[]): string[] {
    const v = loaded.source === 'file' ? loaded.state.venues[venue] : undefined;
    return v ? [...v.shortlist] : [...fallback];
  }

  function symbolsSupervisorFor(venue: string, childId?: string): AnyActorRef | undefined {
    const top = deps.lookup(actorId.symbols(venue));
    if (!top) return undefined;
    const shards: AnyActorRef[] = [];
    for (let i = 0; ; i++) {
      const s = deps.lookup(`${actorId.symbols(venue)}:${i}`);
      if (!s) break;
      shards.push(s);
    }
    if (shards.length === 0)
      return !childId || (top.getSnapshot().context as SupCtx).specs[childId] !== undefined ? top : undefined;
    if (childId) return shards.find((s) => (s.getSnapshot().context as SupCtx).specs[childId] !== undefined);
    // A new symbol goes to the shard with the fewest children.
    return shards.reduce((a, b) =>
      (a.getSnapshot().context as SupCtx).order.length <= (b.getSnapshot().context as SupCtx).order.length ? a : b,
    );
  }

  function spawnSymbol(venue: string, symbol: string): void {
    const id = actorId.symbol(venue, symbol);
    const owner = symbolsSupervisorFor(venue, id);
    // A symbol stopped earlier keeps its spec until deleted: start it again rather than add a duplicate.
    if (owner) {
      owner.send({ type: 'sup.startChild', id });
      return;
    }
    const sup = symbolsSupervisorFor(venue);
    if (!sup) throw new Error(`no ${actorId.symbols(venue)} supervisor`);
    sup.send({ type: 'sup.addChild', spec: deps.symbolSpec(venue, symbol) });
  }

  async function stopSymbol(venue: string, symbol: string): Promise<number> {
    const id = actorId.symbol(venue, symbol);
    const owner = symbolsSupervisorFor(venue, id);
    if (owner) {
      owner.send({ type: 'sup.terminateChild', id });
      // The supervisor drains the child within its shutdown budget (500 ms); wait for it, bounded.
      await poll({ attempts: 100, backoff: { firstMs: 20, maxMs: 20 }, sleep }, async () => {
        const k = (owner.getSnapshot().context as SupCtx).kids[id];
        return { done: !k || k.liveness === 'stopped' || k.liveness === 'removed', value: null };
      });
    }
    // No actor can signal for it any more: now its resting entry orders go (stops and the position stay).
    const cancelled = await deps.drain(venue, symbol);
    owner?.send({ type: 'sup.deleteChild', id });
    return cancelled;
  }

  async function scoreVenue(venue: string): Promise<SymbolScore[] | undefined> {
    const gw = deps.gateway(venue);
    if (!gw) return undefined;
    await gw.loadMarkets();
    const markets = gw.markets('spot');
    const candidates = Object.values(markets)
      .filter((m) => m.active && deps.candidate(venue, m.symbol))
      .map((m) => m.symbol);
    const tickers = candidates.length > 0 ? await gw.fetchTickers(candidates) : {};
    const inputs: ScanInput[] = [];
    let i = 0;
    for (const symbol of candidates) {
      const t = tickers[symbol];
      if (!t) continue;
      const p = t.last ?? (t.bid !== null && t.ask !== null ? (t.bid + t.ask) / 2 : null);
      const key = `${venue}|${symbol}`;
      let series = prices.get(key);
      if (!series) {
        series = [];
        prices.set(key, series);
      }
      if (p !== null && p > 0) {
        series.push(p);
        if (series.length > PRICE_SAMPLES) series.shift();
      }
      inputs.push({ symbol, quoteVolume: t.quoteVolume ?? null, changePct: t.changePct ?? null, prices: series });
      if (++i % CHUNK === 0) await yieldToLoop();
    }
    await yieldToLoop();
    return scoreSymbols(inputs);
  }

  async function pass(reason: string): Promise<ScanView> {
    const venues: ScanView['venues'] = {};
    const failed: string[] = [];
    for (const venue of deps.venues) {
      let scores: SymbolScore[] | undefined;
      try {
        scores = await scoreVenue(venue);
        // No ticker at all is an outage, not an empty market: keep every symbol actor rather than stop them all.
        if (scores && scores.length === 0) throw new Error('no ticker for any candidate symbol');
      } catch (e) {
        // This venue keeps its previous shortlist (and its symbol actors); the others go ahead.
        failed.push(`${venue}: ${errorMessage(e)}`);
        const prev = view.venues[venue];
        if (prev) venues[venue] = prev;
        continue;
      }
      if (!scores) continue;
      const keep = [...deps.protectedSymbols(venue)];
      const list = shortlist(scores, deps.topN, keep);
      venues[venue] = { shortlist: list, scores };
      await yieldToLoop();
      publishScores(venue, list, scores);
      await yieldToLoop();
      const current = deps.liveSymbols(venue);
      const { add, remove } = shortlistDiff(current, list);
      deps.setLiveSymbols(venue, list);
      // A supervisor's addChild costs ~2 ms (it copies its children record): one per macrotask, so a shortlist
      // that swaps dozens of symbols never stalls ticks (bench/scanner.bench.ts).
      for (const s of add) {
        spawnSymbol(venue, s);
        deps.onSymbolAdded?.(venue, s);
        await yieldToLoop();
      }
      if (add.length > 0) deps.metrics.scannerSelected.inc(add.length);
      for (const s of remove) {
        const cancelled = await stopSymbol(venue, s);
        dropSymbolSeries(deps.metrics, venue, s);
        log.info({ venue, symbol: s, cancelled }, `[SCAN] ${venue}: ${s} left the shortlist; actor stopped, drained`);
      }
      log.info(
        { venue, reason, shortlist: list, added: add, removed: remove, protected: keep },
        formatScanLine(venue, scores.length, list, scores),
      );
    }
    await yieldToLoop();
    view = { enabled: true, passAt: now(), passes: view.passes + 1, venues };
    const state: ScannerState = { version: 1, passAt: view.passAt as number, venues };
    await writeFileAtomicAsync(deps.statePath, `${JSON.stringify(state)}\n`);
    ownMtime = mtimeOf(deps.statePath);
    if (failed.length > 0) throw new Error(failed.join('; '));
    return view;
  }

  /** One pass at a time; a request during a pass runs one more right after (coalesced). */
  function runPass(reason: string, report?: (e: { type: string; [k: string]: unknown }) => void): Promise<ScanView> {
    if (running) {
      rerun = true;
      return running;
    }
    running = (async () => {
      try {
        const v = await pass(reason);
        report?.({
          type: 'scan.done',
          at: now(),
          shortlisted: Object.values(v.venues).flatMap((x) => x.shortlist).length,
        });
        return v;
      } catch (e) {
        log.warn({ err: errorMessage(e), reason }, '[SCAN] pass failed: the previous shortlist stays in force');
        report?.({ type: 'scan.failed', at: now(), error: errorMessage(e) });
        throw e;
      } finally {
        running = null;
        if (rerun) {
          rerun = false;
          void runPass('coalesced', report).catch(() => undefined);
        }
      }
    })();
    return running;
  }

  let reportTo: ((e: { type: string; [k: string]: unknown }) => void) | undefined;
  const passes = fromCallback(({ sendBack }) => {
    if (!deps.enabled) return () => {};
    reportTo = sendBack as never;
    const kick = (why: string) => void runPass(why, reportTo).catch(() => undefined);
    kick(loaded.source === 'file' ? 'boot' : `boot (${loaded.source} state)`);
    const t = setInterval(() => kick('interval'), deps.intervalMs);
    t.unref();
    // An operator touch (mtime newer than our own write) or delete forces a fresh shortlist.
    const f = setInterval(() => {
      if (running || ownMtime === null) return;
      const m = mtimeOf(deps.statePath);
      if (m === ownMtime) return;
      log.info({ path: deps.statePath }, '[SCAN] state file touched: fresh pass');
      ownMtime = m;
      kick('state file touched');
    }, deps.filePollMs ?? 1_000);
    f.unref();
    return () => {
      clearInterval(t);
      clearInterval(f);
      reportTo = undefined;
    };
  });
  const logic = scannerMachine.provide({ actors: { passes } });

  const port: ScannerPort = {
    universe() {
      const out: Record<string, MarketFilterView[]> = {};
      for (const venue of deps.venues) {
        const gw = deps.gateway(venue);
        if (!gw) continue;
        let markets: ReturnType<VenueGateway['markets']> = {};
        try {
          markets = gw.markets('spot');
        } catch {
          markets = {};
        }
        out[venue] = Object.values(markets)
          .filter((m) => m.active)
          .map((m) => ({
            symbol: m.symbol,
            base: m.base,
            quote: m.quote,
            minQty: m.minQty,
            stepSize: m.stepSize,
            tickSize: m.tickSize,
            minNotional: m.minNotional,
          }))
          .sort((a, b) => a.symbol.localeCompare(b.symbol));
      }
      return out;
    },
    scan: () => view,
    health() {
      const ref = deps.lookup(actorId.scanner());
      if (ref?.getSnapshot().status !== 'active') return { value: 'HALTED', reason: 'scanner not running' };
      const h = (ref.getSnapshot().context as ScannerContext).health;
      return { value: h.value, reason: h.reason };
    },
    async rescan(actor) {
      if (!deps.enabled) return view;
      log.info({ actor }, '[SCAN] rescan requested');
      // A pass a venue refused (its request budget, an outage) is the venue's answer, not a server fault: 503 with
      // the reason, and the previous shortlist stays in force (a bare Error here was a 500).
      return runPass(`rescan by ${actor}`, reportTo).catch((e: unknown) => {
        throw e instanceof AppError
          ? e
          : new AppError('VENUE_UNAVAILABLE', `scan pass failed: ${errorMessage(e)}; the previous shortlist stays`);
      });
    },
  };

  return {
    port,
    bootSymbols,
    /** The `scanner` subtree (a leaf under root, non-critical: a failing scanner never stops trading). */
    subtree: () => ({
      spec: {
        id: actorId.scanner(),
        src: 'scanner',
        critical: false,
        shutdownMs: 1_000,
        input: { enabled: deps.enabled },
      } as ChildSpec,
      logics: { scanner: logic },
    }),
    /** Runs one pass now (bench, tests). */
    runPass: (reason = 'manual') => runPass(reason, reportTo),
  };
}

export type Scanner = ReturnType<typeof createScanner>;
