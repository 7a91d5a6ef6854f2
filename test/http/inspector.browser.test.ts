import { existsSync, readdirSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/venues/sim/index.js';
import { type BosunProcess, startBosun } from '../support/bosun-process.js';
import { type FakeTelegram, startFakeTelegram } from '../support/fake-telegram.js';
import { getJson, post, startVenue, TOKEN, tradingEnv, until } from '../trading/support.js';
import { type SymbolsStack, startSymbolsStack } from './support/symbols-stack.js';

/**
 * The inspector page in a real browser (issues 6 and 18): Debian's chromium driven by playwright-core.
 *
 * Against the built Bosun (`dist/main.bundle.mjs`) trading on a simulator this test owns: the page loads with no
 * console error and no request leaving its origin; a venue fault turns that venue's connection LED amber then red;
 * the statechart of every machine kind running in Bosun renders with its active states lit; a restart, a breaker
 * reset and a kill sent from the page go through the authenticated routes, and the kill lights HALTED in the
 * governance statechart and turns every trading LED red.
 *
 * Against the real runtime with 1,000 symbol actors: the tree renders only the rows on screen, and the filter
 * narrows it to the matching rows.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true')
  throw new Error(`${CHROMIUM} is required in CI (apt-get install chromium)`);
if (!available) console.warn(`inspector browser test skipped: ${CHROMIUM} not found`);

const row = (id: string) => `#tree .row[data-actor-id="${id}"]`;
const CONN = row('conn:binance');

// The few DOM names the page.evaluate callbacks use (they run in the browser; the project has no DOM lib).
interface El {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
declare const document: {
  querySelector<T = El>(s: string): T | null;
  querySelectorAll<T = El>(s: string): Iterable<T> & { length: number };
  body: unknown;
};
declare const window: unknown;
declare const sessionStorage: { getItem(k: string): string | null };
declare const MutationObserver: new (
  cb: () => void,
) => { observe(target: unknown, opts: Record<string, unknown>): void };

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}

/**
 * Console errors, page errors, failed requests, error answers and any request to another origin, as one list to
 * assert empty. `expected` lists error answers that are right for the stack under test (`503 /breakers` where no
 * trading pipeline runs); the browser's own console line for an error answer is covered by the answer's entry.
 */
function watchPage(page: Page, origin: () => string, expected: readonly string[] = []): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource:')) problems.push(m.text());
  });
  page.on('response', (r) => {
    const what = `${r.status()} ${new URL(r.url()).pathname}`;
    if (r.status() >= 400 && !expected.includes(what)) problems.push(what);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    // The stream is cut when the page goes away; anything else failing is a problem.
    if (!r.url().endsWith('/inspect/stream')) problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin()}/`) && !r.url().startsWith('data:'))
      problems.push(`left the origin: ${r.url()}`);
  });
  return problems;
}

/** The id of every machine defined under src/machines (each module exports its machine). */
async function machineIds(): Promise<string[]> {
  const dir = new URL('../../src/machines/', import.meta.url);
  const ids: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.machine.ts'))) {
    const mod = (await import(new URL(f, dir).href)) as Record<string, unknown>;
    for (const v of Object.values(mod))
      if (v && typeof v === 'object' && 'root' in v && 'config' in v) ids.push((v as unknown as { id: string }).id);
  }
  return ids;
}

/** Brings an actor's row on screen through the filter and selects it; resolves once its statechart is drawn. */
async function openActor(page: Page, id: string): Promise<void> {
  await page.fill('#filter', id);
  await page.click(`${row(id)} .id`);
  await page.waitForSelector(`#chart[data-actor="${id}"][data-ready="true"]`, { timeout: 30_000 });
}

describe.skipIf(!available)('inspector page (chromium, Bosun on a simulator)', () => {
  let sim: Simulator;
  let telegram: FakeTelegram;
  let bosun: BosunProcess;
  let browser: Browser;
  let page: Page;
  let problems: string[] = [];

  beforeAll(async () => {
    sim = await startVenue(23);
    // REST polling (streams off): the venue faults below are HTTP answers, met by the next ticker poll; with
    // streams on, Bosun may make no REST call to Binance for a while.
    telegram = await startFakeTelegram();
    // The executor (dry run) and the notifier too, so every machine kind Bosun runs as an actor is live.
    bosun = await startBosun(
      tradingEnv(sim, {
        TRADE_SYMBOLS: 'BTCUSDT',
        STREAMS_ENABLED: 'false',
        EXECUTOR_ENABLED: 'true',
        DRY_RUN: 'true',
        TELEGRAM_ENABLED: 'true',
        TELEGRAM_BOT_TOKEN: '123456:inspector-test',
        TELEGRAM_CHAT_ID: '42',
        TELEGRAM_API_ROOT: telegram.apiRoot,
      }),
    );
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    problems = watchPage(page, () => bosun.engine);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await bosun?.stop();
    await sim?.close();
    await telegram?.close();
  });

  it('loads with the tree, counts by health and kind, trading LEDs, no console error and nothing off-origin', async () => {
    const r = await page.goto(`${bosun.engine}/inspector`);
    expect(r?.status()).toBe(200);
    expect(r?.headers()['content-security-policy']).toContain("connect-src 'self';");
    await page.waitForSelector('#conn[data-state="open"]');
    await page.waitForSelector(`${CONN}[data-health="OK"]`);
    for (const id of ['root', 'governance', 'venue:kraken', 'feed:binance', 'sym:binance:BTCUSDT'])
      expect(await page.locator(row(id)).count()).toBe(1);
    // A row says where the machine is as a short path, not JSON.
    const state = (await page.textContent(`${row('conn:binance')} .state`)) ?? '';
    expect(state).toMatch(/health: OK/);
    expect(state).not.toContain('{');
    // Header counts: every actor is counted once, by health and by kind.
    const total = Number(await page.getAttribute('#tree', 'data-matches'));
    const byHealth = await page.evaluate(() =>
      ['OK', 'DEGRADED', 'HALTED'].map((h) => Number(document.querySelector(`#count-${h}`)?.dataset.count)),
    );
    expect(byHealth.reduce((a, b) => a + b, 0)).toBe(total);
    expect(await page.getAttribute('.kind-chip[data-kind="sym"]', 'data-count')).toBe('2');
    await expect
      .poll(() =>
        page.evaluate(() =>
          [...document.querySelectorAll('.trading-led')].map((e) => `${e.dataset.key}=${e.dataset.health}`),
        ),
      )
      .toEqual(['global=OK', 'binance=OK', 'kraken=OK', 'binance:BTCUSDT=OK', 'kraken:BTCUSDT=OK']);
    expect(problems).toEqual([]);
  });

  it('collapses a subtree and expands it again', async () => {
    await page.click(`${row('venue:binance')} .twisty`);
    await expect.poll(() => page.locator(row('conn:binance')).count()).toBe(0);
    expect(await page.locator(row('conn:kraken')).count()).toBe(1);
    await page.click(`${row('venue:binance')} .twisty`);
    await expect.poll(() => page.locator(row('conn:binance')).count()).toBe(1);
  });

  it("turns the faulted venue's LED amber, then red, with the reason in the row", async () => {
    await page.evaluate((sel) => {
      const w = window as unknown as { __seq: string[] };
      w.__seq = [];
      const note = () => {
        const h = document.querySelector(sel)?.dataset.health ?? 'none';
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
    // Retry-After 1 s: Bosun pauses Binance's calls until then (issue 14), so the 418 below is met a second later.
    await fault({ kind: 'http_429', venue: 'binance', count: 1, retryAfterSec: 1 });
    await page.waitForSelector(`${CONN}[data-health="DEGRADED"]`);
    await fault({ kind: 'http_418', venue: 'binance', count: 1 });
    await page.waitForSelector(`${CONN}[data-health="HALTED"]`);
    const seq = await page.evaluate(() => (window as unknown as { __seq: string[] }).__seq);
    expect(seq.filter((h) => h !== 'none')).toEqual(['OK', 'DEGRADED', 'HALTED']);
    expect(await page.textContent(`${CONN} .state`)).toMatch(/health: HALTED — ban: /);
    const log = await page.locator('#log li').allTextContents();
    expect(log.some((l) => /health\.DEGRADED {2}conn:binance .*rate_limited/.test(l))).toBe(true);
    expect(log.some((l) => /health\.HALTED {2}conn:binance .*ban: /.test(l))).toBe(true);
    // The other venue is not touched by the fault (it may be DEGRADED on its own request budget while warming up).
    expect(await page.getAttribute(row('conn:kraken'), 'data-health')).not.toBe('HALTED');
    expect(await page.textContent(`${row('conn:kraken')} .state`)).not.toMatch(/ban: |rate_limited/);
    // Its health strip: OK, then DEGRADED, then HALTED within the hour, each edge listed with its reason.
    await openActor(page, 'conn:binance');
    await page.waitForSelector('#health-strip .seg[data-health="HALTED"]');
    const strip = await page.evaluate(() =>
      [...document.querySelectorAll('#health-strip .seg')].map((s) => s.dataset.health),
    );
    expect(strip.slice(-3)).toEqual(['OK', 'DEGRADED', 'HALTED']);
    expect(await page.locator('#health-edges li').first().textContent()).toMatch(/HALTED — ban: /);
    expect(problems).toEqual([]);
    // 60 s: the faults wait for Bosun's next Binance call, which under the full suite's load came after 30 s.
  }, 60_000);

  it('draws the statechart of every machine kind running in Bosun, with its active states lit', async () => {
    const catalog = await getJson<{
      machines: Record<string, { root: unknown }>;
      actors: Record<string, string>;
    }>(`${bosun.engine}/inspect/machines`);
    const byMachine = new Map<string, string>();
    for (const [id, key] of Object.entries(catalog.actors).sort()) if (!byMachine.has(key)) byMachine.set(key, id);
    // Every machine under src/machines runs as a live actor here, and the supervisor; the order machine alone is a
    // pure transition function applied to order records, never an actor.
    expect([...byMachine.keys()].sort()).toEqual(
      [...(await machineIds()).filter((id) => id !== 'order'), 'supervisor'].sort(),
    );
    const drawn: string[] = [];
    for (const [key, id] of byMachine) {
      await openActor(page, id);
      const chart = await page.evaluate(() => {
        const c = document.querySelector('#chart');
        return {
          machine: c?.dataset.machine,
          states: Number(c?.dataset.states),
          drawn: document.querySelectorAll('#chart g.st').length,
          lit: [...document.querySelectorAll('#chart g.st[data-active="true"]')].map((g) => g.dataset.stateId),
          leaves: document.querySelectorAll(
            '#chart g.st.atomic[data-active="true"], #chart g.st.final[data-active="true"]',
          ).length,
        };
      });
      expect(chart.machine, id).toBe(key);
      expect(chart.drawn, id).toBe(chart.states);
      expect(chart.leaves, `${id} has an active leaf state (${chart.lit.join(', ')})`).toBeGreaterThan(0);
      drawn.push(key);
    }
    expect(drawn.sort()).toEqual([...byMachine.keys()].sort());
    expect(problems).toEqual([]);
  }, 120_000);

  it('restarts a child from the page with the typed token (authenticated, idempotent, audited)', async () => {
    await page.fill('#filter', '');
    await page.fill('#token', TOKEN);
    await page.click(`${row('feed:kraken')} button.restart`);
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
    expect(await page.evaluate(() => sessionStorage.getItem('bosun.opsToken'))).toBe(TOKEN);
    expect(problems).toEqual([]);
  });

  it('resets a breaker from the page (engine route, audited)', async () => {
    await page.click('#breakers [data-breaker-id="breaker:equity"] button.reset');
    await page.waitForFunction(() => {
      const r = document.querySelector('#result');
      return r?.dataset.status === 'ok' && (r.textContent ?? '').startsWith('reset breaker breaker:equity');
    });
    const audit = await getJson<{ records: Array<{ action: string; target: string; actor: string }> }>(
      `${bosun.ops}/audit?action=breaker.reset&limit=1`,
    );
    expect(audit.records[0]).toMatchObject({ action: 'breaker.reset', target: 'breaker:equity', actor: 'inspector' });
    expect(problems).toEqual([]);
  });

  it('opens /docs: every route listed with its response schema, nothing off-origin', async () => {
    // The engine's page (most routes); the ops listener serves the same page over its own document.
    for (const base of [bosun.engine]) {
      const docs = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const docsProblems = watchPage(docs, () => base);
      try {
        const spec = await getJson<{ paths: Record<string, Record<string, unknown>> }>(`${base}/docs/json`);
        const operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
          Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
        );
        expect((await docs.goto(`${base}/docs`))?.status()).toBe(200);
        await docs.waitForSelector('.opblock');
        const listed = await docs.evaluate(() =>
          [...document.querySelectorAll('.opblock-summary')].map((e) =>
            (e.textContent ?? '').replace(/\s+/g, ' ').trim(),
          ),
        );
        for (const op of operations) {
          const [method, path] = op.split(' ') as [string, string];
          expect(
            listed.some((l) => l.startsWith(method) && l.includes(path)),
            op,
          ).toBe(true);
        }
        // Expanding /status shows its 200 with the described schema.
        await docs.click('.opblock-summary:has-text("/status")');
        await docs.waitForSelector('.opblock.is-open .responses-table');
        const responses = (await docs.textContent('.opblock.is-open .responses-wrapper')) ?? '';
        expect(responses).toContain('200');
        expect(responses).toContain('trading_enabled');
        expect(docsProblems).toEqual([]);
      } finally {
        await docs.close();
      }
    }
  });

  it('kills from the page: governance lights HALTED in its statechart, every trading LED turns red', async () => {
    await openActor(page, 'governance');
    expect(await page.getAttribute('#chart g.st[data-state-id="governance.health.OK"]', 'data-active')).toBe('true');
    await page.click('#kill-global');
    await page.waitForSelector('#chart g.st[data-state-id="governance.health.HALTED"][data-active="true"]');
    expect(await page.getAttribute('#chart g.st[data-state-id="governance.health.OK"]', 'data-active')).toBe('false');
    // The transition is listed with the event the governance actor received, as Bosun recorded it.
    await expect
      .poll(() => page.locator('#transitions li').first().textContent())
      .toMatch(/gov\.set.*health\.OK.* → .*health\.HALTED/);
    await expect
      .poll(() => page.evaluate(() => [...document.querySelectorAll('.trading-led')].map((e) => e.dataset.health)))
      .toEqual(['HALTED', 'HALTED', 'HALTED', 'HALTED', 'HALTED']);
    expect(await page.getAttribute('#result', 'data-status')).toBe('ok');
    const status = await getJson<{ trading_enabled: boolean; trading_state: string }>(`${bosun.ops}/status`);
    expect(status).toMatchObject({ trading_enabled: false, trading_state: 'HALTED' });
    const audit = await getJson<{ records: Array<{ action: string; actor: string; idempotencyKey?: string }> }>(
      `${bosun.ops}/audit?action=kill&limit=1`,
    );
    expect(audit.records[0]).toMatchObject({ action: 'kill', actor: 'inspector' });
    expect(audit.records[0]?.idempotencyKey).toMatch(/^inspector-[0-9a-f]{32}$/);
    expect(problems).toEqual([]);
    // A page click, a durable kill and the stream's next flush: seconds under the full suite's load.
  }, 60_000);

  it("shows a kill made through the API before the page opened: the transition and the strip's HALTED span with its reason", async () => {
    const reason = 'api kill before the page opened';
    expect((await post(`${bosun.ops}/kill`, { enabled: true })).status).toBe(200);
    await until('governance OK after the resume', async () =>
      (await getJson<{ health: string }>(`${bosun.engine}/actors/governance`)).health === 'OK' ? true : undefined,
    );
    expect((await post(`${bosun.ops}/kill`, { enabled: false, reason })).status).toBe(200);
    // A page that did not exist during any of it: all it shows comes from Bosun's own records.
    const fresh = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    const freshProblems = watchPage(fresh, () => bosun.engine);
    try {
      await fresh.goto(`${bosun.engine}/inspector`);
      await fresh.waitForSelector('#conn[data-state="open"]');
      await openActor(fresh, 'governance');
      await fresh.waitForSelector('#chart g.st[data-state-id="governance.health.HALTED"][data-active="true"]');
      await fresh.waitForSelector('#transitions[data-count]');
      const lines = await fresh.locator('#transitions li').allTextContents();
      // Newest first: this kill, the resume before it, the kill sent from the other page; the start is the oldest.
      expect(lines[0]).toMatch(/^\d\d:\d\d:\d\dgov\.set\s+health\.OK.* → health\.HALTED/);
      expect(lines[1]).toMatch(/gov\.set\s+health\.HALTED.* → health\.OK/);
      expect(lines[2]).toMatch(/gov\.set\s+health\.OK.* → health\.HALTED/);
      expect(lines.at(-1)).toMatch(/start\s+∅ → health\.OK/);

      await fresh.waitForSelector('#health-strip[data-edges]');
      const strip = await fresh.evaluate(() =>
        [...document.querySelectorAll<El & { title: string }>('#health-strip .seg')].map((e) => ({
          health: e.dataset.health,
          title: e.title,
        })),
      );
      expect(strip.at(-1)?.health).toBe('HALTED');
      expect(strip.at(-1)?.title).toContain(`HALTED — trading_halted: ${reason}`);
      expect(strip.map((g) => g.health)).toEqual(expect.arrayContaining(['OK', 'HALTED']));
      expect(await fresh.locator('#health-edges li').first().textContent()).toContain(
        `HALTED — trading_halted: ${reason}`,
      );
      expect(freshProblems).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

describe.skipIf(!available)('inspector page (chromium, 1,000 symbol actors)', () => {
  let stack: SymbolsStack;
  let browser: Browser;
  let page: Page;
  let problems: string[] = [];

  beforeAll(async () => {
    stack = await startSymbolsStack(1_000);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    problems = watchPage(page, () => stack.base, ['503 /breakers']);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('renders only the rows on screen, and the filter narrows 1,000 symbols to the matching rows', async () => {
    await page.goto(`${stack.base}/inspector`);
    await page.waitForSelector('#conn[data-state="open"]');
    await page.waitForSelector(row('sym:binance:S0000USDT'));
    expect(await page.getAttribute('.kind-chip[data-kind="sym"]', 'data-count')).toBe('1000');
    const all = Number(await page.getAttribute('#tree', 'data-visible'));
    expect(all).toBeGreaterThan(1_000);
    expect(await page.locator('#tree .row').count()).toBeLessThan(100);

    await page.fill('#filter', 'S04');
    await page.waitForSelector('#tree[data-matches="100"]');
    const ids = await page.evaluate(() => [...document.querySelectorAll('#tree .row')].map((r) => r.dataset.actorId));
    const syms = ids.filter((id) => id?.startsWith('sym:'));
    expect(syms.length).toBeGreaterThan(10);
    expect(syms.every((id) => /^sym:binance:S04\d\dUSDT$/.test(id ?? ''))).toBe(true);
    // The rest on screen are the matches' ancestors, for context.
    const context = ids.filter((id) => !id?.startsWith('sym:'));
    expect(context).toContain('root');
    expect(context.every((id) => id === 'root' || id?.startsWith('symbols:binance'))).toBe(true);

    // Scrolled to the end, the last match is on screen and nothing else was added.
    await page.evaluate(() => {
      const vp = document.querySelector('#tree-viewport') as unknown as { scrollTop: number; scrollHeight: number };
      vp.scrollTop = vp.scrollHeight;
    });
    await page.waitForSelector(row('sym:binance:S0499USDT'));

    // Kind and health filters: every symbol actor is OK, none HALTED.
    await page.fill('#filter', '');
    await page.selectOption('#filter-kind', 'sym');
    await page.waitForSelector('#tree[data-matches="1000"]');
    await page.selectOption('#filter-health', 'HALTED');
    // The empty tree has no box: wait for the attribute, not for visibility.
    await page.waitForSelector('#tree[data-matches="0"]', { state: 'attached' });
    expect(await page.locator('#tree .row').count()).toBe(0);
    await page.selectOption('#filter-health', '');
    await page.selectOption('#filter-kind', '');
    expect(problems).toEqual([]);
  });

  it('draws the symbol statechart with its active states lit', async () => {
    await openActor(page, 'sym:binance:S0123USDT');
    expect(await page.getAttribute('#chart', 'data-machine')).toBe('symbol');
    expect(await page.locator('#chart g.st[data-active="true"][data-key="OK"]').count()).toBe(1);
    expect(problems).toEqual([]);
  });
});
