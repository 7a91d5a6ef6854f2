import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { startFakeTelegram } from '../../test/support/fake-telegram.js';
import { createLogger } from '../logging/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { openStore, type Store } from '../store/index.js';
import { createNotifier, type NotifierHealth, type NotifierOptions } from './notifier.js';
import { createTelegramClient, type TelegramClient } from './telegram-client.js';

const TOKEN = '123456:SECRET-bot-token_xyz';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function captureLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: createLogger({ stream, level: 'debug' }).log, lines };
}

/** A real notifier over real LMDB and real fetch to the fake Bot API; time is a SimulatedClock. */
async function setup(over: Partial<NotifierOptions> = {}) {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const fake = await startFakeTelegram({ now: () => clock.now() });
  const store: Store = await openStore({ dir: mkdtempSync(join(tmpdir(), 'bosun-notify-')) });
  const metrics = createMetrics({ defaultMetrics: false });
  const real = createTelegramClient({ apiRoot: fake.apiRoot, token: TOKEN, chatId: '42' });
  /** Clock times at which the notifier called the Bot API (synchronously recorded: no waiting to prove absence). */
  const attempts: number[] = [];
  const client: TelegramClient = {
    sendMessage: (text) => {
      attempts.push(clock.now());
      return real.sendMessage(text);
    },
  };
  const { log, lines } = captureLog();
  const notifier = createNotifier({ store: store.alerts, client, log, metrics, clock, ...over });
  const health: NotifierHealth[] = [];
  notifier.start((h) => health.push(h));
  cleanups.push(async () => {
    notifier.stop();
    await store.close();
    await fake.close();
  });
  const value = async (m: { get(): Promise<{ values: Array<{ value: number }> }> }) =>
    (await m.get()).values.reduce((s, v) => s + v.value, 0);
  return { clock, fake, store, metrics, notifier, attempts, health, lines, value };
}

describe('notifier', () => {
  it('delivers a burst of 100 identical alerts as one message with a suppression count', async () => {
    const t = await setup();
    await Promise.all(
      Array.from({ length: 100 }, () => t.notifier.alert({ key: 'ws.down:binance', text: '🟡 ws down binance' })),
    );
    await expect.poll(() => t.fake.delivered()).toEqual(['🟡 ws down binance\n(+99 suppressed)']);
    expect(t.fake.requests[0]?.body.chat_id).toBe('42');
    await expect.poll(() => t.store.alerts.list()).toEqual([]);
    // The window passes: nothing else was pending, so nothing else is sent.
    t.clock.increment(120_000);
    expect(t.attempts).toHaveLength(1);
    expect(await t.value(t.metrics.notifierSent)).toBe(1);
    expect(await t.value(t.metrics.notifierSuppressed)).toBe(99);
    expect(await t.value(t.metrics.notifierQueueDepth)).toBe(0);
  });

  it('sends the first of a slow burst at once and the rest as one follow-up when the dedupe window ends', async () => {
    const t = await setup({ dedupeWindowMs: 60_000 });
    for (let i = 0; i < 100; i++) await t.notifier.alert({ key: 'k', text: 'flapping' });
    await expect.poll(() => t.fake.delivered()).toEqual(['flapping']);
    // Every later alert is held for the window (one LMDB record), not sent.
    await expect.poll(() => t.store.alerts.list().map((r) => [r.count, r.followUp])).toEqual([[99, true]]);
    t.clock.increment(59_000);
    expect(t.attempts).toHaveLength(1);
    t.clock.increment(1_000);
    await expect.poll(() => t.fake.delivered()).toEqual(['flapping', 'flapping\n(+99 suppressed)']);
  });

  it('honours a 429 retry_after: the next attempt is not before it, then the alert goes out', async () => {
    const t = await setup();
    t.fake.floodNext(1, 7);
    const t0 = t.clock.now();
    await t.notifier.alert({ key: 'breaker', text: '🔴 HALTED breaker:equity', severity: 'critical' });
    await expect.poll(() => t.health.at(-1)?.reason).toBe('telegram_rate_limited: retry_after 7s');
    expect(t.fake.requests.map((r) => r.status)).toEqual([429]);
    t.clock.increment(6_999);
    expect(t.attempts).toEqual([t0]);
    t.clock.increment(1);
    expect(t.attempts).toEqual([t0, t0 + 7_000]);
    await expect.poll(() => t.fake.delivered()).toEqual(['🔴 HALTED breaker:equity']);
    expect(t.fake.requests[1]!.at - t.fake.requests[0]!.at).toBeGreaterThanOrEqual(7_000);
    await expect.poll(() => t.health.at(-1)).toEqual({ value: 'OK', reason: '' });
  });

  it('backs off exponentially while Telegram fails and keeps the alert in LMDB until a 200', async () => {
    const t = await setup({ backoff: { minMs: 1_000, maxMs: 4_000, factor: 2 } });
    t.fake.failWith(500);
    const t0 = t.clock.now();
    await t.notifier.alert({ key: 'a', text: 'first' });
    const failed = (n: number) => expect.poll(() => t.fake.requests.length).toBe(n);
    await failed(1);
    expect(t.health.at(-1)).toEqual({ value: 'DEGRADED', reason: 'telegram_http_500: Internal Server Error' });
    for (const [step, n] of [
      [1_000, 2],
      [2_000, 3],
      [4_000, 4],
      [4_000, 5],
    ] as const) {
      t.clock.increment(step - 1);
      expect(t.attempts).toHaveLength(n - 1);
      t.clock.increment(1);
      await failed(n);
    }
    expect(t.attempts.map((a) => a - t0)).toEqual([0, 1_000, 3_000, 7_000, 11_000]);
    expect(t.store.alerts.list().map((r) => r.text)).toEqual(['first']);
    t.fake.failWith(undefined);
    t.clock.increment(4_000);
    await expect.poll(() => t.fake.delivered()).toEqual(['first']);
    await expect.poll(() => t.store.alerts.list()).toEqual([]);
    expect(t.health.at(-1)).toEqual({ value: 'OK', reason: '' });
  });

  it('paces messages to one per interval and sends critical alerts first', async () => {
    const t = await setup({ minIntervalMs: 1_000 });
    t.notifier.stop();
    await t.notifier.alert({ key: 'i', text: 'info', severity: 'info' });
    await t.notifier.alert({ key: 'w', text: 'warn' });
    await t.notifier.alert({ key: 'c', text: 'crit', severity: 'critical' });
    const t0 = t.clock.now();
    t.notifier.start();
    await expect.poll(() => t.fake.delivered()).toEqual(['crit']);
    t.clock.increment(999);
    expect(t.attempts).toHaveLength(1);
    t.clock.increment(1);
    await expect.poll(() => t.fake.delivered()).toEqual(['crit', 'warn']);
    t.clock.increment(1_000);
    await expect.poll(() => t.fake.delivered()).toEqual(['crit', 'warn', 'info']);
    expect(t.attempts.map((a) => a - t0)).toEqual([0, 1_000, 2_000]);
  });

  it('survives Telegram being unreachable and never writes the bot token to the log', async () => {
    const t = await setup();
    t.fake.floodNext(1, 1);
    await t.notifier.alert({ key: 'x', text: 'hello' });
    await expect.poll(() => t.fake.requests.length).toBe(1);
    t.fake.failWith(502);
    t.clock.increment(1_000);
    await expect.poll(() => t.fake.requests.length).toBe(2);
    await t.fake.close();
    t.clock.increment(1_000);
    await expect.poll(() => t.health.at(-1)?.reason).toMatch(/^telegram_unreachable: (ECONNREFUSED|UND_ERR_SOCKET)$/);
    // The token did reach the Bot API (in the URL path), and it is in no log line.
    expect(t.fake.requests[0]?.token).toBe(TOKEN);
    expect(t.lines.length).toBeGreaterThanOrEqual(3);
    expect(t.lines.join('\n')).not.toContain('SECRET-bot-token');
    expect(t.store.alerts.list()).toHaveLength(1);
  });

  it('queues the digest every interval from the injected source', async () => {
    let n = 0;
    const t = await setup({ digest: { intervalMs: 60_000, source: () => `📊 digest ${++n}` } });
    t.clock.increment(59_999);
    expect(n).toBe(0);
    t.clock.increment(1);
    await expect.poll(() => t.fake.delivered()).toEqual(['📊 digest 1']);
    t.clock.increment(60_000);
    await expect.poll(() => t.fake.delivered()).toEqual(['📊 digest 1', '📊 digest 2']);
  });

  it('refuses an alert without a key or text', async () => {
    const t = await setup();
    await expect(t.notifier.alert({ key: '', text: 'x' })).rejects.toThrow(/key/);
    await expect(t.notifier.alert({ key: 'k', text: ' ' })).rejects.toThrow(/text/);
    expect(t.store.alerts.list()).toEqual([]);
  });
});
