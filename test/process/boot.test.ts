import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { type BosunProcess, bosunEnv, runBosun, startBosun } from '../support/bosun-process.js';
import { orderRecord } from '../support/order-record.js';

const running: BosunProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

async function start(extra: Record<string, string> = {}, stateDir?: string) {
  const p = await startBosun(extra, stateDir);
  running.push(p);
  return p;
}

describe('the bosun process', () => {
  // How long start → /readyz and SIGTERM → exit take is measured by bench/startup.bench.ts (`npm run bench`), not
  // asserted here: a wall-clock bound in a test fails on a loaded machine, not on a slow Bosun.
  it('answers /readyz 200 once started and exits 0 on SIGTERM, logging a clean shutdown', async () => {
    const p = await start();
    const res = await fetch(`${p.engine}/readyz`);
    expect(res.status).toBe(200);
    running.length = 0;
    const exit = await p.stop('SIGTERM');
    expect(exit.code).toBe(0);
    // The exit can beat the last stdout line to this side of the pipe: poll for it.
    await expect.poll(() => p.lines.some((l) => l.msg === 'shutdown complete'), { timeout: 5_000 }).toBe(true);
  });

  it('exits non-zero before any actor starts when an environment value is bad, naming the variable', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'bosun-bad-')), 'state');
    const run = runBosun(bosunEnv(stateDir, { MAX_NOTIONAL_USDT: 'abc', TRADING_ENABLED: 'maybe' }));
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(run.stderr()).toMatch(/MAX_NOTIONAL_USDT/);
    expect(run.stderr()).toMatch(/TRADING_ENABLED/);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('refuses to boot over a stored order record that does not parse, naming its key (fail closed)', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'bosun-corrupt-')), 'state');
    // An order the crash left open, whose record lost its venue: dropped, it would hold no slot and never resolve.
    const { venue: _, ...lost } = orderRecord({ clientOrderId: 'bosun-o-bBTCUSDT-7', status: 'acknowledged' });
    const db = open({ path: join(stateDir, 'db') });
    await db.openDB({ name: 'orders' }).put('bosun-o-bBTCUSDT-7', lost);
    await db.close();
    const run = runBosun(bosunEnv(stateDir));
    const exit = await run.exited;
    expect(exit.code).toBe(1);
    expect(run.stderr()).toMatch(/startup failed: stored order record "bosun-o-bBTCUSDT-7" cannot be read: venue/);
  });

  it('refuses to start in live mode without OPS_API_TOKEN', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'bosun-live-')), 'state');
    const run = runBosun(bosunEnv(stateDir, { MODE: 'live' }));
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(run.stderr()).toMatch(/OPS_API_TOKEN/);
  });

  it('generates a 0600 ops token in paper mode and reuses it after a restart', async () => {
    const p = await start();
    const tokenPath = join(p.stateDir, 'ops_token');
    const token = readFileSync(tokenPath, 'utf8').trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const { statSync } = await import('node:fs');
    expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
    await p.stop('SIGTERM');
    running.length = 0;
    const q = await start({}, p.stateDir);
    expect(readFileSync(tokenPath, 'utf8').trim()).toBe(token);
    expect(q.lines.some((l) => l.msg === 'ops token loaded from state')).toBe(true);
  });

  it("takes the runbook's 25 USDT test order out of the box: default flags, default ops files, paper balances", async () => {
    const p = await start();
    const token = readFileSync(join(p.stateDir, 'ops_token'), 'utf8').trim();
    const res = await fetch(`${p.engine}/orders`, {
      method: 'POST',
      headers: { 'x-ops-token': token, 'idempotency-key': 'boot-order-1', 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'BTCUSDT.BINANCE', side: 'BUY', quote: 25 }),
    });
    const body = (await res.json()) as { status?: string; reason?: string; order?: { status: string } };
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.status).toBe('accepted');
    expect(body.order?.status).toBe('filled');
  });

  it('restarts HALTED after POST /kill was acknowledged and the process was killed with SIGKILL', async () => {
    const p = await start();
    const token = readFileSync(join(p.stateDir, 'ops_token'), 'utf8').trim();
    const res = await fetch(`${p.ops}/kill`, {
      method: 'POST',
      headers: {
        'X-Ops-Token': token,
        'Idempotency-Key': 'kill-1',
        'X-Ops-Actor': 'tester',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '{"enabled": false}',
    });
    expect(res.status).toBe(200);
    await p.stop('SIGKILL');
    running.length = 0;
    const q = await start({}, p.stateDir);
    const status = (await (await fetch(`${q.ops}/status`)).json()) as Record<string, unknown>;
    expect(status.trading_enabled).toBe(false);
    expect(status.trading_state).toBe('HALTED');
    const metrics = await (await fetch(`${q.ops}/metrics`)).text();
    expect(metrics).toMatch(/^metrics_trading_enabled 0$/m);
  });

  it('halts trading durably, flushes and exits non-zero on an uncaught error', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'bosun-crash-')), 'state');
    const run = runBosun(bosunEnv(stateDir, { FAULT_INJECT: 'uncaught_after_ready' }));
    const exit = await run.exited;
    expect(exit.code).toBe(1);
    const appLog = readFileSync(join(stateDir, 'logs', 'app.log'), 'utf8');
    expect(appLog).toMatch(/"msg":"fatal: halting trading and exiting"/);
    expect(appLog).toMatch(/injected fault: uncaught_after_ready/);
    const q = await start({}, stateDir);
    const status = (await (await fetch(`${q.ops}/status`)).json()) as {
      trading_state: string;
      governance: { global: { reason: string; command: string } };
    };
    expect(status.trading_state).toBe('HALTED');
    expect(status.governance.global).toMatchObject({ reason: 'fatal: uncaught_exception', command: 'fatal' });
  });
});
