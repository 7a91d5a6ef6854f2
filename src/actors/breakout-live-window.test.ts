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
    const w1 = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
    await w1.ready;
    expect(w1.scale()).toBe(0.5);
    t += 3 * MIN;
    await s.restart();
    const w2 = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
    await w2.ready;
    // The restart resumes the remaining 2 minutes: it neither lengthens nor skips the window.
    expect(w2.endsAt()).toBe(1_000_000 + HALF_SIZE_WINDOW_MS);
    expect(w2.scale()).toBe(0.5);
    t += 2 * MIN - 1;
    expect(w2.scale()).toBe(0.5);
    t += 1;
    expect(w2.scale()).toBe(1);
    await s.restart();
    const w3 = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
    await w3.ready;
    expect(w3.scale()).toBe(1);
    await s.close();
  });

  it('a flag flip by restart (dry-run → live) arms the window; a restart inside it keeps the remaining time', async () => {
    const s = await restartable();
    let t = 5_000_000;
    // An earlier live period left a record; then the operator went back to dry-run and restarted.
    await s.store.kv.put(LIVE_WINDOW_KEY, { liveSince: 1_000 });
    await s.restart();
    const dry = createBreakoutLiveWindow({ kv: s.store.kv, live: false, now: () => t, log });
    await dry.ready;
    expect(dry.live()).toBe(false);
    expect(dry.scale()).toBe(0);
    expect(s.store.kv.get(LIVE_WINDOW_KEY)).toBeUndefined();
    // `.env` edited to EVENT_BREAKOUT_DRY_RUN=false, restart: the window opens at this start.
    t += 10 * MIN;
    await s.restart();
    const live = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
    await live.ready;
    expect(s.store.kv.get(LIVE_WINDOW_KEY)).toEqual({ liveSince: t });
    expect(live.scale()).toBe(0.5);
    const opened = t;
    // Restart 4 minutes in (false → false): 1 minute left, not a fresh 5.
    t += 4 * MIN;
    await s.restart();
    const again = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
    await again.ready;
    expect(again.endsAt()).toBe(opened + HALF_SIZE_WINDOW_MS);
    expect(again.scale()).toBe(0.5);
    t += MIN;
    expect(again.scale()).toBe(1);
    // Restart after the window (false → false): not re-armed.
    t += 30 * MIN;
    await s.restart();
    const later = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
    await later.ready;
    expect(later.scale()).toBe(1);
    expect(s.store.kv.get(LIVE_WINDOW_KEY)).toEqual({ liveSince: opened });
    await s.close();
  });

  it('dry-run=false with breakouts disabled is not live: enabling them later still opens the window', async () => {
    const s = await restartable();
    let t = 7_000_000;
    // EVENT_BREAKOUT_ENABLED=false EVENT_BREAKOUT_DRY_RUN=false for an hour: no window is spent.
    const off = createBreakoutLiveWindow({ kv: s.store.kv, live: false, now: () => t, log });
    await off.ready;
    expect(off.live()).toBe(false);
    t += 60 * MIN;
    await s.restart();
    const on = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
    await on.ready;
    expect(on.scale()).toBe(0.5);
    expect(on.endsAt()).toBe(t + HALF_SIZE_WINDOW_MS);
    await s.close();
  });

  it('fails closed: an unreadable record means half size for a whole window', async () => {
    const s = await restartable();
    await s.store.kv.put(LIVE_WINDOW_KEY, { liveSince: 'yesterday' });
    await s.restart();
    const t = 9_000_000;
    const w = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
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
      const liveWindow = createBreakoutLiveWindow({ kv: s.store.kv, live: true, now: () => t, log });
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

/** Polls `cond` until it holds, for at most 10 s: a bound in event-loop turns ran out under the full suite. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  if (!cond()) throw new Error('condition not reached');
}
