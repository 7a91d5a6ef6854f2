import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { openStore, type Store } from '../store/index.js';
import type { BreakoutDecision } from '../strategies/breakout.js';
import { createBreakout, createExternalFeed } from './breakout.actors.js';
import { createBreakoutLiveWindow, HALF_SIZE_WINDOW_MS, LIVE_WINDOW_KEY } from './breakout-live-window.js';

/**
 * The runbook's 5-minute half-size window, across real LMDB restarts: the store is closed and reopened between
 * "processes", the window's record is all that survives, and an injected clock moves time.
 */
const log = createLogger({ level: 'silent', stdout: false }).log;
const MIN = 60_000;

async function restartable() {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-window-'));
  let store: Store = await openStore({ dir });
  return {
    get store() {
      return store;
    },
    async restart() {
      await store.close();
      store = await openStore({ dir });
    },
    close: () => store.close(),
  };
}

describe('breakout half-size window', () => {
  it('a start with EVENT_BREAKOUT_DRY_RUN=false is half size for 5 minutes, resumed (not restarted) across a restart', async () => {
    const s = await restartable();
    let t = 1_000_000;
    const w1 = createBreakoutLiveWindow({ kv: s.store.kv, dryRun: false, now: () => t, log });
    await w1.ready;
    expect(w1.scale()).toBe(0.5);
    t += 3 * MIN;
    await s.restart();
    const w2 = createBreakoutLiveWindow({ kv: s.store.kv, dryRun: false, now: () => t, log });
    await w2.ready;
    // The restart resumes the remaining 2 minutes: it neither lengthens nor skips the window.
    expect(w2.endsAt()).toBe(1_000_000 + HALF_SIZE_WINDOW_MS);
    expect(w2.scale()).toBe(0.5);
    t += 2 * MIN - 1;
    expect(w2.scale()).toBe(0.5);
    t += 1;
    expect(w2.scale()).toBe(1);
    await s.restart();
    const w3 = createBreakoutLiveWindow({ kv: s.store.kv, dryRun: false, now: () => t, log });
    await w3.ready;
    expect(w3.scale()).toBe(1);
    await s.close();
  });

  it('a runtime flip to live opens the window; back to dry-run and live again opens a new one', async () => {
    const s = await restartable();
    let t = 5_000_000;
    const w = createBreakoutLiveWindow({ kv: s.store.kv, dryRun: true, now: () => t, log });
    await w.ready;
    expect(w.live()).toBe(false);
    expect(w.scale()).toBe(0);
    t += 10 * MIN;
    await w.setDryRun(false);
    expect(s.store.kv.get(LIVE_WINDOW_KEY)).toEqual({ liveSince: t });
    expect(w.scale()).toBe(0.5);
    // A second flip to live inside the window changes nothing (it never lengthens it).
    t += MIN;
    await w.setDryRun(false);
    expect(w.endsAt()).toBe(t - MIN + HALF_SIZE_WINDOW_MS);
    // The flip survives a restart that still says DRY_RUN=false in the process env (the runtime flip's record).
    await s.restart();
    const again = createBreakoutLiveWindow({ kv: s.store.kv, dryRun: false, now: () => t, log });
    await again.ready;
    expect(again.endsAt()).toBe(t - MIN + HALF_SIZE_WINDOW_MS);
    await again.setDryRun(true);
    expect(s.store.kv.get(LIVE_WINDOW_KEY)).toBeUndefined();
    t += 20 * MIN;
    await again.setDryRun(false);
    expect(again.endsAt()).toBe(t + HALF_SIZE_WINDOW_MS);
    await s.close();
  });

  it('fails closed: an unreadable record means half size for a whole window', async () => {
    const s = await restartable();
    await s.store.kv.put(LIVE_WINDOW_KEY, { liveSince: 'yesterday' });
    await s.restart();
    const t = 9_000_000;
    const w = createBreakoutLiveWindow({ kv: s.store.kv, dryRun: false, now: () => t, log });
    await w.ready;
    expect(w.scale()).toBe(0.5);
    expect(w.endsAt()).toBe(t + HALF_SIZE_WINDOW_MS);
    expect(s.store.kv.get(LIVE_WINDOW_KEY)).toEqual({ liveSince: t });
    await s.close();
  });

  it('breakout orders inside the window go out at half size, and the armed symbol survives a restart', async () => {
    const s = await restartable();
    let t = 2_000_000;
    const sent: Array<{ d: BreakoutDecision; scale: number }> = [];
    const build = () => {
      const feed = createExternalFeed();
      const liveWindow = createBreakoutLiveWindow({ kv: s.store.kv, dryRun: false, now: () => t, log });
      const b = createBreakout({
        feed,
        enabled: true,
        dryRun: false,
        kpis: false,
        symbols: ['FOOUSDT'],
        params: { windowMs: 10 * MIN, breakoutPct: 1 },
        metrics: createMetrics({ defaultMetrics: false }),
        log,
        liveWindow,
        kv: s.store.kv,
        submit: async (d, scale) => {
          sent.push({ d, scale });
          return { status: 'accepted', averagePrice: d.triggerPrice };
        },
      });
      return { feed, b, liveWindow };
    };
    const first = build();
    await first.liveWindow.ready;
    first.feed.publish({ id: 'e1', source: 'test_harness', receivedAt: t, payload: { symbol: 'FOOUSDT' } });
    await until(() => s.store.kv.get('breakout:armed') !== undefined);
    await s.restart();
    t += MIN;
    const second = build();
    expect(second.b.state().armed.FOOUSDT).toBeDefined();
    await second.b.price('FOOUSDT', 100, t);
    await second.b.price('FOOUSDT', 102, t + 1);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.scale).toBe(0.5);
    await s.close();
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition not reached');
}
