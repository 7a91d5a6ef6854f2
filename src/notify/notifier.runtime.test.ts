import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { startFakeTelegram } from '../../test/support/fake-telegram.js';
import { actorId } from '../domain/ids.js';
import { createLogger } from '../logging/logger.js';
import { type HealthContext, healthActions, healthGuards, healthRegion, initialHealth } from '../machines/health.js';
import { notifierMachine } from '../machines/notifier.machine.js';
import { createMetrics } from '../metrics/metrics.js';
import { openStore } from '../store/index.js';
import { createRuntime } from '../supervisor/runtime.js';
import { createAlertSources } from './alert-sources.js';
import { makeNotifierPump } from './notifier.actors.js';
import { createNotifier } from './notifier.js';
import { createTelegramClient } from './telegram-client.js';

/** A stand-in guard: an entity machine with the shared health region, driven by operator `health.*` events. */
const guardMachine = setup({
  types: {} as { context: HealthContext; events: { type: 'health.halt' | 'health.ok'; reason: string } },
  actions: { ...(healthActions as unknown as Record<string, never>) },
  guards: { ...(healthGuards as unknown as Record<string, never>) },
}).createMachine({
  type: 'parallel',
  context: () => ({ health: initialHealth() }),
  states: { health: healthRegion as never, idle: {} },
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The runtime wired the way main.ts wires it: notifier actor under core, health and governance hooks. */
async function boot() {
  const fake = await startFakeTelegram();
  const store = await openStore({ dir: mkdtempSync(join(tmpdir(), 'bosun-notify-rt-')) });
  const log = createLogger({ level: 'silent', stdout: false }).log;
  const metrics = createMetrics({ defaultMetrics: false });
  const notifier = createNotifier({
    store: store.alerts,
    client: createTelegramClient({ apiRoot: fake.apiRoot, token: '1:abc', chatId: '-100' }),
    log,
    metrics,
    minIntervalMs: 0,
    dedupeWindowMs: 60_000,
    backoff: { minMs: 20, maxMs: 20, factor: 1 },
  });
  const alerts = createAlertSources({
    notify: notifier.alert,
    log,
    equityUsd: () => 10_000,
    tradesSince: () => 0,
    digestPeriodMin: 1440,
  });
  const guardId = actorId.guard('depeg', 'binance');
  const runtime = createRuntime({
    options: {
      tradingEnabled: true,
      heartbeatMs: 60_000,
      maxLoopDelayMs: 10_000,
      restartIntensity: 3,
      restartPeriodMs: 60_000,
      shutdownTimeoutMs: 500,
    },
    log,
    metrics,
    kv: store.kv,
    onFatal: () => {},
    onGovernance: (g) => alerts.onGovernance(g),
    onHealthTransition: (id, h, reason) => alerts.onHealthTransition(id, h, reason),
    core: {
      children: [{ id: actorId.notifier(), src: 'notifier', critical: false, shutdownMs: 0 }],
      logics: { notifier: notifierMachine.provide({ actors: { pump: makeNotifierPump(notifier) } }) },
    },
    subtrees: () => [
      {
        spec: { id: guardId, src: 'guard', critical: false, shutdownMs: 0 },
        logics: { guard: guardMachine },
        allowedEvents: { guard: ['health.halt', 'health.ok'] },
      },
    ],
  });
  await runtime.start();
  cleanups.push(async () => {
    await runtime.shutdown();
    await store.close();
    await fake.close();
  });
  return { fake, runtime, guardId, alerts };
}

describe('notifier in the runtime', () => {
  it('sends a health transition with 🔴 and the reason, then 🟢 when it clears', async () => {
    const { fake, runtime, guardId } = await boot();
    expect(runtime.send(guardId, { type: 'health.halt', reason: 'depeg_trigger' }).accepted).toBe(true);
    await expect.poll(() => fake.delivered()).toContain('🔴 HALTED guard:depeg:binance: depeg_trigger');
    runtime.send(guardId, { type: 'health.ok', reason: '' });
    await expect.poll(() => fake.delivered()).toContain('🟢 OK guard:depeg:binance');
    // Roll-ups (venue, risk…) are not repeated; the notifier's own health never alerts.
    expect(fake.delivered().filter((t) => t.includes('depeg_trigger'))).toHaveLength(1);
  });

  it('announces a kill and a resume with who did it', async () => {
    const { fake, runtime } = await boot();
    await runtime.setTrading({ scope: 'global', state: 'HALTED', reason: 'manual', actor: 'alice', command: 'kill' });
    await expect
      .poll(() => fake.delivered())
      .toContain('⛔ KILL: trading HALTED [global] by alice via kill (reason: manual)');
    await runtime.setTrading({ scope: 'global', state: 'ACTIVE', reason: 'ok', actor: 'bob', command: 'resume' });
    await expect
      .poll(() => fake.delivered())
      .toContain('▶️ RESUME: trading ACTIVE [global] by bob via resume (reason: ok)');
  });

  it('shows the notifier actor DEGRADED with the reason while Telegram fails, OK once it answers', async () => {
    const { fake, runtime, alerts } = await boot();
    expect(runtime.actor(actorId.notifier())).toMatchObject({ health: 'OK' });
    fake.failWith(500);
    runtime.send(actorId.guard('depeg', 'binance'), { type: 'health.halt', reason: 'depeg_trigger' });
    await expect
      .poll(() => runtime.actor(actorId.notifier()))
      .toMatchObject({ health: 'DEGRADED', reason: 'telegram_http_500: Internal Server Error' });
    fake.failWith(undefined);
    await expect.poll(() => runtime.actor(actorId.notifier())).toMatchObject({ health: 'OK' });
    expect(fake.delivered()).toEqual(['🔴 HALTED guard:depeg:binance: depeg_trigger']);
    // The digest names the open incident.
    expect(alerts.digest()).toContain('guard:depeg:binance: HALTED depeg_trigger');
  });
});
