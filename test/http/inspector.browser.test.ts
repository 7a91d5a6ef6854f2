import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { getJson, startVenue, TOKEN, tradingEnv } from '../trading/support.js';

/**
 * The inspector page in a real browser (issue 6 item 3): Debian's chromium driven by playwright-core, against the
 * built Bosun (`dist/main.bundle.mjs`) trading on a simulator this test owns. The page loads with no console error; a
 * venue fault injected through the simulator's control API turns that venue's connection LED amber then red; a
 * restart and a kill sent from the page (token typed into the page) go through the authenticated routes, and the
 * kill turns every trading LED red.
 *
 * "Trading LEDs" are the page's `.trading-led` indicators: the effective trading state of the global scope, of
 * every venue and of every symbol actor (the state the symbol actors obey), green ACTIVE / amber REDUCING / red HALTED.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true')
  throw new Error(`${CHROMIUM} is required in CI (apt-get install chromium)`);
if (!available) console.warn(`inspector browser test skipped: ${CHROMIUM} not found`);

const CONN = 'li[data-actor-id="conn:binance"]';

// The few DOM names the page.evaluate callbacks use (they run in the browser; the project has no DOM lib).
interface El {
  dataset: Record<string, string | undefined>;
}
declare const document: {
  querySelector<T = El>(s: string): T | null;
  querySelectorAll<T = El>(s: string): Iterable<T>;
  body: unknown;
};
declare const window: unknown;
declare const sessionStorage: { getItem(k: string): string | null };
declare const MutationObserver: new (
  cb: () => void,
) => { observe(target: unknown, opts: Record<string, unknown>): void };
type HTMLElement = El;

async function ledOf(page: Page, selector: string): Promise<string | undefined> {
  return page.evaluate((s) => document.querySelector<HTMLElement>(s)?.dataset.health, selector);
}

describe.skipIf(!available)('inspector page (chromium)', () => {
  let sim: Simulator;
  let bosun: BosunProcess;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    sim = await startVenue(23);
    bosun = await startBosun(tradingEnv(sim, { TRADE_SYMBOLS: 'BTCUSDT' }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => consoleErrors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await bosun?.stop();
    await sim?.close();
  });

  it('loads with the live tree, health LEDs and trading LEDs, and no console error', async () => {
    const r = await page.goto(`${bosun.engine}/inspector`);
    expect(r?.status()).toBe(200);
    await page.waitForSelector('#conn[data-state="open"]');
    await page.waitForSelector(`${CONN}[data-health="OK"]`);
    for (const id of ['root', 'governance', 'venue:kraken', 'feed:binance', 'sym:binance:BTCUSDT'])
      expect(await page.locator(`li[data-actor-id="${id}"]`).count()).toBe(1);
    // global, two venues, two symbols, all green once /status has been read.
    await expect
      .poll(() =>
        page.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>('.trading-led')].map(
            (e) => `${e.dataset.key}=${e.dataset.health}`,
          ),
        ),
      )
      .toEqual(['global=OK', 'binance=OK', 'kraken=OK', 'binance:BTCUSDT=OK', 'kraken:BTCUSDT=OK']);
    // The page's ops base points at the ops listener (another port, reached through loopback CORS).
    expect(await page.textContent('#ops-base')).toBe(bosun.ops);
    expect(consoleErrors).toEqual([]);
  });

  it("turns the faulted venue's LED amber, then red", async () => {
    // Record every LED value the DOM shows for conn:binance (rows are replaced on topology changes: watch the body).
    await page.evaluate((sel) => {
      const w = window as unknown as { __seq: string[] };
      w.__seq = [];
      const note = () => {
        const h = document.querySelector<HTMLElement>(sel)?.dataset.health ?? 'none';
        if (w.__seq[w.__seq.length - 1] !== h) w.__seq.push(h);
      };
      note();
      new MutationObserver(note).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-health'],
      });
    }, CONN);
    const fault = async (spec: Record<string, unknown>) => {
      const r = await fetch(`${sim.baseUrl}/__sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      expect(r.status).toBe(201);
    };
    // A 429 from Binance: rate limited (DEGRADED); the next answer is a 418 ban (HALTED).
    await fault({ kind: 'http_429', venue: 'binance', count: 1 });
    await page.waitForSelector(`${CONN}[data-health="DEGRADED"]`);
    await fault({ kind: 'http_418', venue: 'binance', count: 1 });
    await page.waitForSelector(`${CONN}[data-health="HALTED"]`);
    const seq = await page.evaluate(() => (window as unknown as { __seq: string[] }).__seq);
    expect(seq.filter((h) => h !== 'none')).toEqual(['OK', 'DEGRADED', 'HALTED']);
    expect(await page.textContent(`${CONN} > .row .reason`)).toMatch(/^ban: /);
    // Both transitions are in the event log, with their reasons.
    const log = await page.locator('#log li').allTextContents();
    expect(log.some((l) => /health\.DEGRADED {2}conn:binance .*rate_limited/.test(l))).toBe(true);
    expect(log.some((l) => /health\.HALTED {2}conn:binance .*ban: /.test(l))).toBe(true);
    // The other venue is untouched.
    expect(await ledOf(page, 'li[data-actor-id="conn:kraken"]')).toBe('OK');
    expect(consoleErrors).toEqual([]);
  });

  it('restarts a child from the page with the typed token (authenticated, idempotent, audited)', async () => {
    await page.fill('#token', TOKEN);
    await page.click('li[data-actor-id="feed:kraken"] > .row button.restart');
    await page.waitForSelector('#result[data-status="ok"]');
    const audit = await getJson<{ records: Array<{ action: string; target: string; actor: string; after: unknown }> }>(
      `${bosun.ops}/audit?action=actor.event&limit=5`,
    );
    expect(audit.records[0]).toMatchObject({
      action: 'actor.event',
      target: 'venue:kraken',
      actor: 'inspector',
      after: { type: 'sup.restartChild', id: 'feed:kraken' },
    });
    // The token stays for the session only.
    expect(await page.evaluate(() => sessionStorage.getItem('bosun.opsToken'))).toBe(TOKEN);
    expect(consoleErrors).toEqual([]);
  });

  it('resets a breaker from the page (engine route, audited)', async () => {
    await page.click('#breakers [data-breaker-id="breaker:equity"] button.reset');
    await page.waitForFunction(() => {
      const r = document.querySelector<HTMLElement & { textContent: string | null }>('#result');
      return r?.dataset.status === 'ok' && (r.textContent ?? '').startsWith('reset breaker breaker:equity');
    });
    const audit = await getJson<{ records: Array<{ action: string; target: string; actor: string }> }>(
      `${bosun.ops}/audit?action=breaker.reset&limit=1`,
    );
    expect(audit.records[0]).toMatchObject({ action: 'breaker.reset', target: 'breaker:equity', actor: 'inspector' });
    expect(consoleErrors).toEqual([]);
  });

  it('kills from the page: every trading LED turns red, and the engine halts', async () => {
    await page.click('#kill-global');
    await expect
      .poll(() =>
        page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.trading-led')].map((e) => e.dataset.health)),
      )
      .toEqual(['HALTED', 'HALTED', 'HALTED', 'HALTED', 'HALTED']);
    expect(await page.getAttribute('#result', 'data-status')).toBe('ok');
    const status = await getJson<{ trading_enabled: boolean; trading_state: string }>(`${bosun.ops}/status`);
    expect(status).toMatchObject({ trading_enabled: false, trading_state: 'HALTED' });
    const audit = await getJson<{ records: Array<{ action: string; actor: string; idempotencyKey?: string }> }>(
      `${bosun.ops}/audit?action=kill&limit=1`,
    );
    expect(audit.records[0]).toMatchObject({ action: 'kill', actor: 'inspector' });
    expect(audit.records[0]?.idempotencyKey).toMatch(/^inspector-[0-9a-f]{32}$/);
    expect(consoleErrors).toEqual([]);
  });
});
