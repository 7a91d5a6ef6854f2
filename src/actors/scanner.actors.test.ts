import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { createLogger } from '../logging/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { createSupervisor } from '../supervisor/supervisor.js';
import { type BosunGateway, createGateway } from '../venues/index.js';
import { type Simulator, startSimulator } from '../venues/sim/index.js';
import { createScanner, loadScannerState, type ScannerDeps } from './scanner.actors.js';

/**
 * The scanner's effects in process: the real gateway (ccxt) against the simulator and a real `symbols:binance`
 * supervisor whose children are inert callback actors, so the test sees exactly which symbol actors the
 * shortlist starts and stops, and in which order a removed symbol is stopped and drained.
 */
let sim: Simulator;
let gw: BosunGateway;

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', port: 0, seed: 7 });
  gw = createGateway('binance', {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    apiKey: sim.keys.binance.apiKey,
    secret: sim.keys.binance.secret,
  });
  await gw.loadMarkets();
});
afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

function setup(opts: { enabled?: boolean; statePath?: string; live?: string[]; protect?: string[]; topN?: number }) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: 'info', stream }).log;
  const events: string[] = [];
  const sup = createSupervisor({
    strategy: 'one_for_one',
    intensity: 10,
    periodMs: 60_000,
    logics: { symbol: fromCallback(() => () => {}) },
    children: (opts.live ?? []).map((s) => ({ id: `sym:binance:${s}`, src: 'symbol', shutdownMs: 100 })),
  });
  const root = createActor(sup, { systemId: 'symbols:binance' }).start();
  let live = [...(opts.live ?? [])];
  const statePath = opts.statePath ?? join(mkdtempSync(join(tmpdir(), 'bosun-scan-')), 'symbol_scanner_state.json');
  const deps: ScannerDeps = {
    enabled: opts.enabled ?? true,
    intervalMs: 3_600_000,
    topN: opts.topN ?? 2,
    statePath,
    venues: ['binance'],
    gateway: () => gw,
    candidate: () => true,
    protectedSymbols: () => opts.protect ?? [],
    liveSymbols: () => live,
    setLiveSymbols: (_v, l) => {
      live = [...l];
    },
    symbolSpec: (_v, s) => ({ id: `sym:binance:${s}`, src: 'symbol', shutdownMs: 100 }),
    drain: async (_v, s) => {
      const k = (root.getSnapshot().context as { kids: Record<string, { liveness: string }> }).kids[`sym:binance:${s}`];
      events.push(`drain ${s} (actor ${k?.liveness ?? 'gone'})`);
      return 1;
    },
    lookup: (id) => root.system.get(id),
    metrics: createMetrics({ defaultMetrics: false }),
    log,
  };
  const running = () =>
    Object.entries((root.getSnapshot().context as { kids: Record<string, { liveness: string }> }).kids)
      .filter(([, k]) => k.liveness === 'running')
      .map(([id]) => id.replace('sym:binance:', ''))
      .sort();
  return { deps, root, lines, events, running, statePath, live: () => live };
}

describe('scanner actor', () => {
  it('starts the shortlisted symbol actors, stops the others before draining them, and persists the shortlist', async () => {
    const t = setup({ live: ['BTCUSDT', 'ETHUSDT', 'XRPUSDT'], protect: ['XRPUSDT'] });
    const scanner = createScanner(t.deps);
    const v = await scanner.runPass('test');
    const list = v.venues.binance?.shortlist ?? [];
    expect(list).toContain('XRPUSDT');
    expect(list.length).toBe(3);
    expect(t.running()).toEqual([...list].sort());
    expect(t.live()).toEqual(list);
    const removed = ['BTCUSDT', 'ETHUSDT'].filter((s) => !list.includes(s));
    // Each removed symbol's actor had stopped by the time its orders were drained.
    expect(t.events.sort()).toEqual(removed.map((s) => `drain ${s} (actor stopped)`).sort());
    const file = loadScannerState(t.statePath);
    expect(file.source).toBe('file');
    if (file.source === 'file') expect(file.state.venues.binance?.shortlist).toEqual(list);
    expect(t.lines.some((l) => l.includes('[SCAN] binance: scored'))).toBe(true);
    t.root.stop();
  });

  it('boots from the persisted shortlist (TRADE_SYMBOLS for a venue the file does not name)', async () => {
    const first = setup({ topN: 1 });
    const v1 = await createScanner(first.deps).runPass('first');
    first.root.stop();
    const t = setup({ topN: 1, statePath: first.statePath });
    const scanner = createScanner(t.deps);
    expect(scanner.bootSymbols('binance', ['BTCUSDT'])).toEqual(v1.venues.binance?.shortlist);
    expect(scanner.bootSymbols('kraken', ['BTCUSD'])).toEqual(['BTCUSD']);
    t.root.stop();
  });

  it('a corrupt state file means a warning and a fresh pass that replaces it, never a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-scan-'));
    const statePath = join(dir, 'symbol_scanner_state.json');
    writeFileSync(statePath, '{"version": 1, "venues": ');
    const t = setup({ statePath });
    const scanner = createScanner(t.deps);
    expect(t.lines.some((l) => l.includes('state file corrupt'))).toBe(true);
    expect(scanner.bootSymbols('binance', ['BTCUSDT', 'ETHUSDT'])).toEqual(['BTCUSDT', 'ETHUSDT']);
    await scanner.runPass('after corrupt');
    expect(loadScannerState(statePath).source).toBe('file');
    t.root.stop();
  });

  it('disabled: TRADE_SYMBOLS rules, a rescan changes nothing and writes nothing', async () => {
    const t = setup({ enabled: false, live: ['BTCUSDT', 'ETHUSDT'] });
    const scanner = createScanner(t.deps);
    expect(scanner.bootSymbols('binance', ['BTCUSDT', 'ETHUSDT'])).toEqual(['BTCUSDT', 'ETHUSDT']);
    const v = await scanner.port.rescan('test');
    expect(v).toMatchObject({ enabled: false, passes: 0, venues: {} });
    expect(t.running()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(() => readFileSync(t.statePath)).toThrow();
    t.root.stop();
  });

  it('lists the universe with each symbol filters', () => {
    const t = setup({});
    const u = createScanner(t.deps).port.universe();
    const btc = u.binance?.find((m) => m.symbol === 'BTCUSDT');
    expect(btc).toMatchObject({ base: 'BTC', quote: 'USDT' });
    expect(btc?.minNotional).toBeGreaterThan(0);
    t.root.stop();
  });
});

describe('scanner actor when the venue fails', () => {
  it('keeps the previous shortlist and every symbol actor when no ticker comes back, and says so', async () => {
    const t = setup({ live: ['BTCUSDT', 'ETHUSDT'] });
    const scanner = createScanner({ ...t.deps, candidate: () => false });
    await expect(scanner.runPass('outage')).rejects.toThrow(/binance: no ticker for any candidate symbol/);
    expect(t.running()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(t.live()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(t.events).toEqual([]);
    t.root.stop();
  });
});
