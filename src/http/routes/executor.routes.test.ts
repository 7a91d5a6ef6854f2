import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { fakeDeps, TOKEN } from '../../../test/http/support/fakes.js';
import { createExecutor, type ExecutorDeps } from '../../actors/executor.actors.js';
import { createLogger } from '../../logging/logger.js';
import { createMetrics } from '../../metrics/metrics.js';
import { openStore } from '../../store/index.js';
import { buildServer } from '../build-server.js';

/** The executor's own routes through inject(), over the real executor actor (a rebalance with nothing to do). */
const stops: Array<() => void> = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

function executorDeps(enabled: boolean, lookup: ExecutorDeps['lookup']): ExecutorDeps {
  return {
    enabled,
    dryRun: true,
    intervalMs: 3_600_000,
    venues: ['binance'],
    liveSymbols: () => ['BTCUSDT'],
    allocations: () => ({ reserve_pct: 10 }),
    equityUsd: () => 10_000,
    position: () => ({ usd: 0, price: 100 }),
    maxNotionalUsdt: () => 50,
    minTradeUsdt: 10,
    submit: async () => ({ status: 'accepted' }),
    lookup,
    metrics: createMetrics({ defaultMetrics: false }),
    log: createLogger({ level: 'silent', stdout: false }).log,
  };
}

async function server(enabled: boolean) {
  let ref: ReturnType<typeof createActor> | undefined;
  const ex = createExecutor(executorDeps(enabled, (id) => (id === 'executor' ? (ref as never) : undefined)));
  const tree = ex.subtree();
  if (tree) {
    ref = createActor(tree.logics.executor, { input: tree.spec.input as never }).start();
    stops.push(() => ref?.stop());
  }
  const deps = fakeDeps({ executor: ex.port });
  const app = await buildServer(deps, 'engine');
  stops.push(() => void app.close());
  return { app, deps };
}

const headers = (key: string) => ({ 'x-ops-token': TOKEN, 'idempotency-key': key, 'x-ops-actor': 'test' });

describe('executor DRY_RUN', () => {
  it('counts and logs the rebalance orders without sending them', async () => {
    let ref: ReturnType<typeof createActor> | undefined;
    let sent = 0;
    const deps = executorDeps(true, (id) => (id === 'executor' ? (ref as never) : undefined));
    deps.submit = async () => {
      sent += 1;
      return { status: 'accepted' };
    };
    const ex = createExecutor(deps);
    const tree = ex.subtree();
    ref = createActor(tree?.logics.executor as never, { input: tree?.spec.input as never }).start();
    stops.push(() => ref?.stop());
    ref.send({ type: 'exec.runNow' });
    await vi.waitFor(() => expect(ex.port.view().rebalances).toBe(1));
    const m = await deps.metrics.executorOrders.get();
    expect(m.values.find((v) => v.labels.mode === 'dry_run')?.value).toBe(1);
    expect(sent).toBe(0);
  });
});

describe('executor stop is durable (fail closed)', () => {
  it('an operator stop survives a restart of the actor and of the process: no rebalance until started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-exec-'));
    const metrics = createMetrics({ defaultMetrics: false });
    const store = await openStore({ dir: join(dir, 'db'), logsDir: join(dir, 'logs'), metrics, onFatal: () => {} });
    stops.push(() => void store.close());
    let ref: ReturnType<typeof createActor> | undefined;
    const deps = { ...executorDeps(true, (id) => (id === 'executor' ? (ref as never) : undefined)), kv: store.kv };
    const first = createExecutor(deps);
    let tree = first.subtree();
    ref = createActor(tree?.logics.executor as never, { input: tree?.spec.input as never }).start();
    await first.port.stop('test');
    ref.stop();
    // The supervisor restarts the actor from its boot-time spec (which said "not stopped"): the effect still refuses.
    ref = createActor(tree?.logics.executor as never, {
      input: { ...(tree?.spec.input as object), stopped: false } as never,
    }).start();
    ref.send({ type: 'exec.runNow' });
    await vi.waitFor(() => expect(ref?.getSnapshot().context.rebalances).toBe(1));
    expect((await deps.metrics.executorOrders.get()).values.length).toBe(0);
    expect(first.port.view().stopped).toBe(true);
    ref.stop();
    // A new process: the spec itself starts parked.
    const second = createExecutor(deps);
    tree = second.subtree();
    expect((tree?.spec.input as { stopped: boolean } | undefined)?.stopped).toBe(true);
    ref = createActor(tree?.logics.executor as never, { input: tree?.spec.input as never }).start();
    stops.push(() => ref?.stop());
    expect(second.port.view()).toMatchObject({ stopped: true, running: false });
    await second.port.start('test');
    expect(second.port.view()).toMatchObject({ stopped: false, running: true });
  });
});

describe('executor routes', () => {
  it('stops and starts the executor, idempotently, audited', async () => {
    const { app, deps } = await server(true);
    expect((await app.inject({ method: 'GET', url: '/executor' })).json()).toMatchObject({ stopped: false });
    const s1 = await app.inject({ method: 'POST', url: '/executor/stop', headers: headers('k1') });
    expect(s1.statusCode).toBe(200);
    expect(s1.json()).toMatchObject({ stopped: true, running: false, health: 'OK' });
    const again = await app.inject({ method: 'POST', url: '/executor/stop', headers: headers('k2') });
    expect(again.json()).toMatchObject({ stopped: true });
    const replay = await app.inject({ method: 'POST', url: '/executor/stop', headers: headers('k1') });
    expect(replay.json()).toEqual(s1.json());
    const st = await app.inject({ method: 'POST', url: '/executor/start', headers: headers('k3') });
    expect(st.json()).toMatchObject({ stopped: false, running: true });
    const audit = await deps.audit.list({ limit: 10 });
    expect(audit.map((a) => `${a.action}:${a.reason}`)).toEqual(
      expect.arrayContaining(['executor.stop:stopped', 'executor.stop:no change', 'executor.start:started']),
    );
  });

  it('refuses without a token, and answers 409 JSON when the executor is disabled', async () => {
    const { app } = await server(false);
    const r = await app.inject({ method: 'POST', url: '/executor/stop', headers: { 'idempotency-key': 'x' } });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe('UNAUTHORIZED');
    const d = await app.inject({ method: 'POST', url: '/executor/stop', headers: headers('k9') });
    expect(d.statusCode).toBe(409);
    expect(d.json().error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/EXECUTOR_ENABLED/) });
  });
});

describe('executor live: what counts as an order and what as a failure', () => {
  const run = async (answer: { status: string; reason?: string }) => {
    let ref: ReturnType<typeof createActor> | undefined;
    const deps = executorDeps(true, (id) => (id === 'executor' ? (ref as never) : undefined));
    deps.dryRun = false;
    deps.backoffMs = 1;
    let calls = 0;
    deps.submit = async () => {
      calls += 1;
      return answer;
    };
    const ex = createExecutor(deps);
    const tree = ex.subtree();
    ref = createActor(tree?.logics.executor as never, { input: tree?.spec.input as never }).start();
    stops.push(() => ref?.stop());
    ref.send({ type: 'exec.runNow' });
    await vi.waitFor(() => expect(ex.port.view().attempt).toBe(0));
    await vi.waitFor(() => expect(ex.port.view().rebalances + ex.port.view().failures).toBeGreaterThan(0));
    await vi.waitFor(() => expect(ex.port.view().attempt).toBe(0));
    const m = await deps.metrics.executorOrders.get();
    return { view: ex.port.view(), calls, live: m.values.find((v) => v.labels.mode === 'live')?.value ?? 0 };
  };

  it('a rail refusal (trading_halted) is an answer: one call, not counted as an order, health OK', async () => {
    const r = await run({ status: 'rejected', reason: 'trading_halted' });
    expect(r).toMatchObject({ calls: 1, live: 0, view: { rebalances: 1, failures: 0, health: 'OK' } });
  });

  it('in_flight (its own earlier order unresolved) is a failure: retried to maxAttempts, then DEGRADED', async () => {
    const r = await run({ status: 'rejected', reason: 'in_flight' });
    expect(r).toMatchObject({ calls: 3, live: 0, view: { rebalances: 0, failures: 3, health: 'DEGRADED' } });
  });

  it('a venue rejection passed the rails: counted as a live order, not retried', async () => {
    const r = await run({ status: 'rejected', reason: 'venue_rejected' });
    expect(r).toMatchObject({ calls: 1, live: 1, view: { rebalances: 1, failures: 0 } });
  });
});
