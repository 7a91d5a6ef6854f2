import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { type FakeTelegram, startFakeTelegram } from '../support/fake-telegram.js';

const TOKEN = '987654:PROCESS-secret-token';
const running: BosunProcess[] = [];
let fake: FakeTelegram | undefined;
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  await fake?.close();
});

describe('telegram alerts across a kill -9', () => {
  it('delivers an alert queued while Telegram was down after the process was SIGKILLed and restarted', async () => {
    fake = await startFakeTelegram();
    fake.failWith(500);
    const env = {
      TELEGRAM_ENABLED: 'true',
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_CHAT_ID: '42',
      TELEGRAM_API_ROOT: fake.apiRoot,
    };
    const p = await startBosun(env);
    running.push(p);
    const opsToken = readFileSync(join(p.stateDir, 'ops_token'), 'utf8').trim();
    const res = await fetch(`${p.ops}/kill`, {
      method: 'POST',
      headers: {
        'X-Ops-Token': opsToken,
        'Idempotency-Key': 'kill-telegram-1',
        'X-Ops-Actor': 'carol',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '{"enabled": false}',
    });
    expect(res.status).toBe(200);
    // The notifier tries only after the alert is committed to LMDB: a refused attempt proves it is queued. It tries
    // on its own schedule, though: an alert raised before the kill (under parallel load the boot's event-loop delay
    // turns the heartbeat DEGRADED, an alert) has already failed against the down Telegram, so the queue is in
    // back-off (1 s, 2 s, 4 s… after each failure) and the kill's first attempt waits for that gate. Polling for it
    // with expect.poll's default 1 s was the flake; the wait is bounded by the back-off, about the time since the
    // first failure, so a few boot-times cover it.
    const isKill = (t: unknown) => typeof t === 'string' && t.startsWith('⛔ KILL: trading HALTED [global] by carol');
    await expect
      .poll(() => fake!.requests.some((r) => r.status === 500 && isKill(r.body.text)), { timeout: 20_000 })
      .toBe(true);
    expect(fake.delivered()).toEqual([]);
    await p.stop('SIGKILL');
    running.length = 0;

    fake.failWith(undefined);
    const q = await startBosun(env, p.stateDir);
    running.push(q);
    await expect.poll(() => fake!.delivered().filter(isKill), { timeout: 5_000 }).toHaveLength(1);
    expect(fake.requests.every((r) => r.token === TOKEN && r.body.chat_id === '42')).toBe(true);
    // The token went to the Bot API only: neither process logged it.
    const logs = readFileSync(join(p.stateDir, 'logs', 'app.log'), 'utf8');
    expect(logs).toMatch(/telegram send failed/);
    expect(logs).not.toContain('PROCESS-secret-token');
    expect(JSON.stringify(q.lines)).not.toContain('PROCESS-secret-token');
  }, 90_000);
});
