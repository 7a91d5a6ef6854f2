import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditCount, type RealStack, startRealStack } from './support/real-stack.js';

const run = promisify(execFile);

/**
 * The runbook's "Operational Controls" commands, character for character, against real listeners (only the
 * port differs: 8002/8003 become ephemeral ports). Needs `curl` and `jq`: skipped when missing, failing with CI=true.
 */
const KILL = `curl -X POST http://localhost:8002/kill -H "X-Ops-Token: \${OPS_API_TOKEN}" -H "Idempotency-Key: kill-$(date +%s)" -d '{"enabled": false}'`;
const RESUME = KILL.replace('{"enabled": false}', '{"enabled": true}');
const STATUS = 'curl http://localhost:8002/status | jq';
const VALIDATE = `curl http://localhost:8002/status | jq '.snapshot_loaded, .balances'`;
const READYZ = 'curl http://localhost:8003/readyz';
const RECONCILE = 'curl -X POST http://localhost:8003/reconcile/manual';
const INJECT = `BODY='{"source":"test_harness","payload":{"symbol":"FOOUSDT"}}'; curl -X POST http://localhost:8003/events/external -H "Content-Type: application/json" -H "X-Events-Signature: sha256=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$EXTERNAL_EVENTS_SECRET" -binary | xxd -p -c 256)" -d "$BODY"`;

const tools = ['/usr/bin/curl', '/usr/bin/jq', '/usr/bin/openssl', '/usr/bin/xxd'].every((p) => existsSync(p));
if (!tools && process.env.CI === 'true') throw new Error('curl, jq, openssl and xxd are required in CI');

const port = (app: FastifyInstance) => {
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : 0;
};

describe.skipIf(!tools)("the runbook's curl commands, verbatim", () => {
  let s: RealStack;
  let shimDir: string;
  const sh = async (command: string, opts: { clock?: string; eventsSecret?: string } = {}) => {
    const cmd = command
      .replaceAll('localhost:8002', `localhost:${port(s.ops)}`)
      .replaceAll('localhost:8003', `localhost:${port(s.engine)}`);
    // `kill-$(date +%s)` collides for a kill and a resume inside one second; a shimmed clock gives the resume
    // its own second, as a human operator's would.
    const PATH = opts.clock ? `${shimDir}:${process.env.PATH}` : process.env.PATH;
    // Verbatim: curl's progress meter goes to stderr, the answer to stdout.
    const { stdout } = await run('bash', ['-c', cmd], {
      env: {
        PATH,
        OPS_API_TOKEN: s.token,
        EXTERNAL_EVENTS_SECRET: opts.eventsSecret ?? s.eventsSecret,
        FAKE_EPOCH: opts.clock ?? '',
      },
    });
    return stdout;
  };

  beforeAll(async () => {
    s = await startRealStack();
    await Promise.all([s.ops.listen({ host: '127.0.0.1', port: 0 }), s.engine.listen({ host: '127.0.0.1', port: 0 })]);
    shimDir = mkdtempSync(join(tmpdir(), 'bosun-clock-'));
    writeFileSync(join(shimDir, 'date'), '#!/bin/sh\necho "$FAKE_EPOCH"\n');
    chmodSync(join(shimDir, 'date'), 0o755);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('pauses trading with the kill command (JSON labelled x-www-form-urlencoded by curl)', async () => {
    const out = JSON.parse(await sh(KILL));
    expect(out).toMatchObject({ trading_enabled: false, trading_state: 'HALTED', audit: { seq: 1 } });
    expect(s.runtime.governance().global.state).toBe('HALTED');
    expect(auditCount(s.store)).toBe(1);
  });

  it('shows the pause in /status through jq', async () => {
    const out = JSON.parse(await sh(STATUS));
    expect(out.trading_enabled).toBe(false);
    expect((await s.metrics.tradingEnabled.get()).values[0]?.value).toBe(0);
  });

  it('resumes with the same command and {"enabled": true}', async () => {
    const out = JSON.parse(await sh(RESUME, { clock: '4102444800' }));
    expect(out).toMatchObject({ trading_enabled: true, trading_state: 'ACTIVE' });
    expect(JSON.parse(await sh(STATUS)).trading_enabled).toBe(true);
  });

  it('answers the restart validation commands', async () => {
    expect(JSON.parse(await sh(READYZ))).toEqual({ ready: true });
    const [snapshotLoaded, balances] = (await sh(VALIDATE)).trim().split('\n');
    expect(snapshotLoaded).toBe('false');
    expect(balances).toBe('null');
  });

  it('answers a body-less POST with JSON, not a media-type or parse error', async () => {
    // This server has no trading pipeline behind it: the body-less, token-less POST passes the media-type, auth
    // and parse layers and gets the pipeline's JSON 503 (test/trading/reconcile.test.ts runs it against Bosun).
    const out = JSON.parse(await sh(RECONCILE));
    expect(out.error.code).toBe('NOT_READY');
    const kill = JSON.parse(await sh(`curl -X POST http://localhost:8002/kill -H "X-Ops-Token: \${OPS_API_TOKEN}"`));
    expect(kill.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'body: a JSON body {"enabled": false|true} is required',
    });
  });

  it('publishes the signed external event of the openssl line onto events.external_feed', async () => {
    const got: Array<{ source: string; payload: unknown }> = [];
    const off = s.feed.subscribe((e) => got.push(e));
    try {
      const out = JSON.parse(await sh(INJECT));
      expect(out).toMatchObject({ accepted: true, id: expect.any(String) });
      expect(got).toEqual([expect.objectContaining({ source: 'test_harness', payload: { symbol: 'FOOUSDT' } })]);
      // The same line is a replay now; with another secret it is a bad signature: both 401, nothing published.
      expect(JSON.parse(await sh(INJECT)).error.code).toBe('UNAUTHORIZED');
      expect(JSON.parse(await sh(INJECT, { eventsSecret: 'not-the-secret' })).error.message).toContain(
        'does not match',
      );
      expect(got).toHaveLength(1);
    } finally {
      off();
    }
  });
});
