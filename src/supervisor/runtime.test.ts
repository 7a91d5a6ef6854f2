import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AnyActorRef, assign, setup, waitFor } from 'xstate';
import { createOpsConfig } from '../actors/config.actors.js';
import { opsFileSpecs } from '../config/ops-files.js';
import { createLogger } from '../logging/logger.js';
import type { GovernanceState } from '../machines/governance.machine.js';
import { createMetrics } from '../metrics/metrics.js';
import { openStore, type Store } from '../store/index.js';
import { createRuntime, type Runtime, type RuntimeDeps } from './runtime.js';
import { createSupervisor } from './supervisor.js';

const opened: Array<{ runtime: Runtime; store: Store }> = [];

async function boot(dir: string, tradingEnabled = true, opsDir?: string, subtrees?: RuntimeDeps['subtrees']) {
  const store = await openStore({ dir: join(dir, 'db') });
  const metrics = createMetrics({ defaultMetrics: false });
  const fatal: string[] = [];
  const ops = createOpsConfig();
  const runtime = createRuntime({
    options: {
      tradingEnabled,
      heartbeatMs: 60_000,
      maxLoopDelayMs: 200,
      restartIntensity: 3,
      restartPeriodMs: 60_000,
      shutdownTimeoutMs: 500,
    },
    log: createLogger({ level: 'silent', stdout: false }).log,
    metrics,
    kv: store.kv,
    onFatal: (r) => fatal.push(r),
    ...(subtrees ? { subtrees } : {}),
    ...(opsDir
      ? {
          opsFiles: {
            specs: opsFileSpecs({
              STRATEGY_WEIGHTS_PATH: join(opsDir, 'strategy_weights.json'),
              CAPITAL_ALLOCATIONS_PATH: join(opsDir, 'capital_allocations.json'),
              POLICIES_PATH: join(opsDir, 'policies.yaml'),
              HMM_CALIBRATION_PATH: join(opsDir, 'hmm_calibration.json'),
            }),
            pollMs: 60_000,
            ops,
          },
        }
      : {}),
  });
  await runtime.start();
  opened.push({ runtime, store });
  return { runtime, store, metrics, fatal, ops };
}

afterEach(async () => {
  for (const { runtime, store } of opened.splice(0)) {
    await runtime.shutdown();
    await store.close();
  }
});

describe('runtime governance', () => {
  it('boots ACTIVE from TRADING_ENABLED=true and persists the boot state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rt-'));
    const { runtime, store, metrics } = await boot(dir);
    expect(runtime.governance().global.state).toBe('ACTIVE');
    expect(store.kv.get('governance')).toMatchObject({ global: { state: 'ACTIVE' } });
    expect((await metrics.tradingEnabled.get()).values[0]?.value).toBe(1);
  });

  it('restores a halted state exactly as it was after a restart, even with TRADING_ENABLED=true', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rt-'));
    const a = await boot(dir);
    await a.runtime.setTrading({
      scope: 'global',
      state: 'HALTED',
      reason: 'ops pause',
      actor: 'alice',
      command: 'kill',
    });
    await a.runtime.setTrading({
      scope: 'venue',
      key: 'kraken',
      state: 'REDUCING',
      reason: 'maintenance',
      actor: 'bob',
      command: 'venue',
    });
    const before = a.runtime.governance();
    await a.runtime.shutdown();
    await a.store.close();
    opened.length = 0;
    const b = await boot(dir);
    expect(b.runtime.governance()).toEqual(before);
    expect(b.runtime.governance().global).toMatchObject({
      state: 'HALTED',
      reason: 'ops pause',
      by: 'alice',
      command: 'kill',
    });
    expect(b.runtime.effectiveTrading('kraken')).toBe('HALTED');
    expect(b.runtime.health().value).toBe('HALTED');
  });

  it('never lets TRADING_ENABLED=false be loosened by a persisted ACTIVE state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rt-'));
    const a = await boot(dir, true);
    await a.runtime.shutdown();
    await a.store.close();
    opened.length = 0;
    const b = await boot(dir, false);
    expect(b.runtime.governance().global).toMatchObject({ state: 'HALTED', reason: 'TRADING_ENABLED=false' });
  });

  it('exports health_state per actor and rolls a halt up to the root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rt-'));
    const { runtime, metrics } = await boot(dir);
    await runtime.setTrading({ scope: 'global', state: 'HALTED', reason: 'test', actor: 't', command: 'kill' });
    const values = (await metrics.healthState.get()).values;
    const of = (actor: string) => values.find((v) => v.labels.actor === actor)?.value;
    expect(of('governance')).toBe(2);
    expect(of('root')).toBe(2);
    expect(runtime.tree().children.map((c) => c.id)).toEqual(['core']);
    expect(runtime.actor('governance')?.health).toBe('HALTED');
    await runtime.setTrading({ scope: 'global', state: 'ACTIVE', reason: 'resume', actor: 't', command: 'resume' });
    const after = (await metrics.healthState.get()).values;
    expect(after.find((v) => v.labels.actor === 'root')?.value).toBe(0);
  });

  it("keeps each actor's last transitions and health edges from boot: a kill's event, states and reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rt-'));
    const { runtime } = await boot(dir);
    await runtime.setTrading({ scope: 'global', state: 'HALTED', reason: 'ops pause', actor: 't', command: 'kill' });
    const transitions = runtime.transitions?.('governance') ?? [];
    expect(transitions[0]).toMatchObject({ event: 'start', from: null });
    expect(transitions.at(-1)).toMatchObject({
      event: 'gov.set',
      from: expect.objectContaining({ health: 'OK' }),
      to: expect.objectContaining({ health: 'HALTED' }),
    });
    expect(runtime.healthHistory?.('governance').at(-1)).toMatchObject({
      from: 'OK',
      to: 'HALTED',
      reason: 'trading_halted: ops pause',
    });
    expect(runtime.transitions?.('heartbeat')?.[0]).toMatchObject({ event: 'start', from: null });
  });

  it('removes health_state of an actor that is stopped, and exports it again when it starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rt-'));
    const { runtime, metrics } = await boot(dir);
    const has = async (actor: string) => (await metrics.healthState.get()).values.some((v) => v.labels.actor === actor);
    expect(await has('heartbeat')).toBe(true);
    expect(runtime.send('heartbeat', { type: 'sup.terminateChild' })).toEqual({ accepted: true });
    await vi.waitFor(async () => expect(await has('heartbeat')).toBe(false), { timeout: 5_000 });
    expect(runtime.send('heartbeat', { type: 'sup.startChild' })).toEqual({ accepted: true });
    await vi.waitFor(async () => expect(await has('heartbeat')).toBe(true), { timeout: 5_000 });
  });

  it('routes supervisor commands to the parent and refuses events that are not allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rt-'));
    const { runtime } = await boot(dir);
    const before = runtime.root().system.get('heartbeat').sessionId;
    expect(runtime.send('heartbeat', { type: 'sup.restartChild' })).toEqual({ accepted: true });
    expect(runtime.root().system.get('heartbeat').sessionId).not.toBe(before);
    expect(runtime.send('heartbeat', { type: 'xstate.stop' }).accepted).toBe(false);
    expect(runtime.send('nope', { type: 'sup.restartChild' }).error?.code).toBe('NOT_FOUND');
    expect(runtime.actor('core')?.children.map((c) => c.id)).toEqual(['governance', 'heartbeat']);
  });
});

/** A trading actor for the broadcast tests: mirrors the global trading state, crashes on `test.crash`. */
const trader = setup({
  types: {} as { context: { trading: string } },
  actions: {
    boom: () => {
      throw new Error('boom');
    },
  },
}).createMachine({
  context: { trading: 'ACTIVE' },
  on: {
    'gov.trading': {
      actions: assign({
        trading: ({ event }) => (event as unknown as { governance: GovernanceState }).governance.global.state,
      }),
    },
    'test.crash': { actions: 'boom' },
  },
});

describe('trading broadcast', () => {
  const kill = { scope: 'global', state: 'HALTED', reason: 't', actor: 't', command: 'kill' } as const;
  const tradingOf = (runtime: Runtime, id: string) =>
    (runtime.root().system.get(id) as AnyActorRef).getSnapshot().context.trading;

  it('reaches trading actors added after start and restarted after a crash, and nothing else', async () => {
    const symbols = createSupervisor({
      strategy: 'one_for_one',
      intensity: 5,
      periodMs: 60_000,
      logics: { trader },
      children: [
        { id: 'sym:t:A', src: 'trader', shutdownMs: 0 },
        { id: 'other:t', src: 'trader', shutdownMs: 0 },
      ],
    });
    const { runtime } = await boot(mkdtempSync(join(tmpdir(), 'bosun-rt-')), true, undefined, () => [
      { spec: { id: 'symbols:t', src: 'symbols', shutdownMs: 0 }, logics: { symbols } },
    ]);
    const sup = runtime.root().system.get('symbols:t') as AnyActorRef;
    sup.send({ type: 'sup.addChild', spec: { id: 'sym:t:B', src: 'trader', shutdownMs: 0 } });
    const dead = runtime.root().system.get('sym:t:A') as AnyActorRef;
    dead.send({ type: 'test.crash' });
    expect(runtime.root().system.get('sym:t:A')).not.toBe(dead);

    await runtime.setTrading(kill);
    await runtime.governanceDelivered();
    expect(tradingOf(runtime, 'sym:t:A')).toBe('HALTED');
    expect(tradingOf(runtime, 'sym:t:B')).toBe('HALTED');
    expect(tradingOf(runtime, 'other:t')).toBe('ACTIVE');
  });

  it('closes the gate at once and tells 250 leaves over several turns; a newer state supersedes an older one', async () => {
    const children = Array.from({ length: 250 }, (_, i) => ({ id: `sym:t:S${i}`, src: 'trader', shutdownMs: 0 }));
    const symbols = createSupervisor({
      strategy: 'one_for_one',
      intensity: 5,
      periodMs: 60_000,
      logics: { trader },
      children,
    });
    const { runtime } = await boot(mkdtempSync(join(tmpdir(), 'bosun-rt-')), true, undefined, () => [
      { spec: { id: 'symbols:t', src: 'symbols', shutdownMs: 0 }, logics: { symbols } },
    ]);
    await runtime.governanceDelivered();
    const states = () => children.map((c) => tradingOf(runtime, c.id));
    const killed = runtime.setTrading(kill);
    // What the engine gates orders on changed in this turn; no leaf has been told yet.
    expect(runtime.effectiveTrading('t', 'S0')).toBe('HALTED');
    expect(new Set(states())).toEqual(new Set(['ACTIVE']));
    // A resume issued in the same turn: whichever chunks of the kill's broadcast ran, every leaf ends on the newest.
    const resumed = runtime.setTrading({ ...kill, state: 'ACTIVE', command: 'resume' });
    await Promise.all([killed, resumed]);
    await runtime.governanceDelivered();
    expect(new Set(states())).toEqual(new Set(['ACTIVE']));
    await runtime.setTrading(kill);
    await runtime.governanceDelivered();
    expect(new Set(states())).toEqual(new Set(['HALTED']));
  });
});

describe('config actor', () => {
  it('keeps the last good file in force, goes DEGRADED with the reason and counts the error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-rt-'));
    const opsDir = mkdtempSync(join(tmpdir(), 'bosun-ops-'));
    const weights = join(opsDir, 'strategy_weights.json');
    writeFileSync(weights, JSON.stringify({ weights: { stable_model: 0.7, canary_model: 0.3 } }));
    const { runtime, metrics, ops } = await boot(dir, true, opsDir);
    const ref = runtime.root().system.get('config');
    await waitFor(ref, (s) => Object.keys(s.context.files).length === 4);
    expect(ops.current<{ weights: Record<string, number> }>('strategy_weights')?.weights.stable_model).toBeCloseTo(0.7);
    writeFileSync(weights, '{"weights": {"stable_model": -1}}');
    const degraded = await waitFor(ref, (s) => s.context.health.value === 'DEGRADED');
    expect(degraded.context.health.reason).toMatch(/^strategy_weights: /);
    expect(ops.current<{ weights: Record<string, number> }>('strategy_weights')?.weights.stable_model).toBeCloseTo(0.7);
    const errors = (await metrics.configReloadErrors.get()).values.find((v) => v.labels.file === 'strategy_weights');
    expect(errors?.value).toBe(1);
    expect(runtime.health().value).toBe('DEGRADED');
    writeFileSync(weights, JSON.stringify({ weights: { stable_model: 0.5, canary_model: 0.5 } }));
    await waitFor(ref, (s) => s.context.health.value === 'OK');
    expect(ops.current<{ weights: Record<string, number> }>('strategy_weights')?.weights.canary_model).toBeCloseTo(0.5);
  });
});
