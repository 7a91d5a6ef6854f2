import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { getJson, startVenue, TOKEN, tradingEnv, until } from '../trading/support.js';

/**
 * Issue #15: a page on another site (`attacker.test`, resolved to 127.0.0.1 by Chromium itself, so the browser's
 * own private-network rules do not help) tries a form POST and a `fetch` against every mutating route of the
 * running Bosun (ops and engine, from their OpenAPI documents). Nothing happens: every POST that reaches Bosun is
 * a 403, preflighted calls never leave the browser, and the audit log, governance, the external feed and
 * reconciliation are as before. Real Chromium (Debian's), driven by playwright-core, as the inspector test.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true')
  throw new Error(`${CHROMIUM} is required in CI (apt-get install chromium)`);

declare const document: { title: string };
const ATTACKER = 'attacker.test';

/** The attacker's page: for each target, a form POST into a hidden frame and three kinds of fetch. */
function attackerPage(targets: string[]): string {
  const script = `
    const targets = ${JSON.stringify(targets)};
    const json = '{"enabled":false,"source":"evil","payload":{},"type":"sup.restartChild"}';
    (async () => {
      for (const [i, url] of targets.entries()) {
        const frame = document.createElement('iframe');
        frame.name = 'f' + i;
        document.body.appendChild(frame);
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = url;
        form.target = frame.name;
        form.enctype = 'text/plain';
        const field = document.createElement('input');
        field.name = json.slice(0, -1) + ',"x":"';
        field.value = '"}';
        form.appendChild(field);
        document.body.appendChild(form);
        form.submit();
        const tries = [
          { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: json },
          { method: 'POST', mode: 'no-cors', body: json },
          { method: 'POST', headers: { 'content-type': 'application/json', 'x-ops-token': ${JSON.stringify(TOKEN)} }, body: json },
        ];
        for (const t of tries) await fetch(url, t).catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 300));
      document.title = 'done';
    })();`;
  return `<!doctype html><html><head><title>attack</title></head><body><script>${script}</script></body></html>`;
}

describe.skipIf(!available)('a page on another site against every mutating route (chromium)', () => {
  let sim: Simulator;
  let bosun: BosunProcess;
  let browser: Browser;
  let attacker: Server;
  let attackerPort = 0;
  let targets: string[] = [];

  beforeAll(async () => {
    sim = await startVenue(41);
    // No EXTERNAL_EVENTS_SECRET: the paper-mode default that once let any page publish events.
    bosun = await startBosun(tradingEnv(sim, { TRADE_SYMBOLS: 'BTCUSDT' }));
    for (const base of [bosun.ops, bosun.engine]) {
      const doc = await getJson<{ paths: Record<string, Record<string, unknown>> }>(`${base}/docs/json`);
      for (const [path, methods] of Object.entries(doc.paths))
        if ('post' in methods)
          targets.push(
            `${base}${path.replace('{id}', path.startsWith('/actors') ? 'feed:binance' : 'breaker:binance:venue')}`,
          );
    }
    targets = [...new Set(targets)];
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage(targets));
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    attackerPort = (attacker.address() as { port: number }).port;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        `--host-resolver-rules=MAP ${ATTACKER} 127.0.0.1`,
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => attacker?.close(r));
    await bosun?.stop();
    await sim?.close();
  });

  const snapshot = async () => {
    const audit = await getJson<{ records: Array<{ seq: number }> }>(`${bosun.ops}/audit?limit=1`);
    const status = await getJson<{ governance: unknown }>(`${bosun.ops}/status`);
    const metrics = await (await fetch(`${bosun.engine}/metrics`)).text();
    return {
      auditSeq: audit.records[0]?.seq ?? 0,
      governance: JSON.stringify(status.governance),
      evilEvents: /external_feed_events_total\{[^}]*source="evil"/.test(metrics),
      reconciles: bosun.lines.filter((l) => l.msg === 'manual reconciliation (no token)').length,
    };
  };

  it('changes nothing: every POST that reaches Bosun is refused with 403', async () => {
    expect(targets.length).toBeGreaterThanOrEqual(13);
    const before = await snapshot();
    const page = await browser.newPage();
    const answered: Array<{ url: string; method: string; status: number }> = [];
    page.on('response', (r) => {
      const u = r.url();
      if (u.startsWith(bosun.ops) || u.startsWith(bosun.engine))
        answered.push({ url: u, method: r.request().method(), status: r.status() });
    });
    await page.goto(`http://${ATTACKER}:${attackerPort}/`);
    await until('the attack page finished', async () => ((await page.title()) === 'done' ? true : undefined), 60_000);
    const posts = answered.filter((a) => a.method === 'POST');
    // The form and the two no-cors fetches reach Bosun for every route; the token-bearing fetch is preflighted.
    expect(new Set(posts.map((p) => p.url))).toEqual(new Set(targets));
    expect(posts.filter((p) => p.status !== 403)).toEqual([]);
    expect(answered.filter((a) => a.status >= 200 && a.status < 300)).toEqual([]);
    expect(await snapshot()).toEqual(before);
    await page.close();
  }, 90_000);

  it('ignores an inspector ?ops= that points elsewhere, and its CSP names no other site', async () => {
    const page = await browser.newPage();
    const r = await page.goto(`${bosun.engine}/inspector?ops=http://${ATTACKER}:${attackerPort}`);
    const csp = r?.headers()['content-security-policy'] ?? '';
    expect(csp).toMatch(/connect-src 'self';/);
    expect(csp).not.toMatch(/connect-src[^;]*(https?:(?!\/\/127)|attacker)/);
    await page.close();
  });
});
