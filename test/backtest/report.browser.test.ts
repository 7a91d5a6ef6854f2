import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtest } from '../../src/cli/backtest.js';

/**
 * `bosun backtest --html FILE` in a real browser (Debian's chromium through playwright-core, as the inspector's
 * browser test): the page opens from disk with no console error, no page error and no request beyond its own file
 * (self-contained: no CDN), and it draws the equity curve of every mode over the regime bands.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true')
  throw new Error(`${CHROMIUM} is required in CI (apt-get install chromium)`);
if (!available) console.warn(`backtest report browser test skipped: ${CHROMIUM} not found`);

declare const document: {
  querySelector(s: string): {
    getAttribute(n: string): string | null;
    getBoundingClientRect(): { width: number; height: number };
    textContent: string | null;
  } | null;
  querySelectorAll(s: string): { length: number };
};

let browser: Browser | undefined;
const dir = mkdtempSync(join(tmpdir(), 'bosun-bt-report-'));
const html = join(dir, 'report.html');
const perpHtml = join(dir, 'report-perp.html');
const io = {
  stateDir: dir,
  opsDir: resolve(import.meta.dirname, '../../ops'),
  json: false,
  out: () => {},
  err: () => {},
  gateway: () => Promise.reject(new Error('no venue in this test')),
};

beforeAll(async () => {
  if (!available) return;
  const code = await backtest(io, [
    '--paths',
    '2',
    '--bars',
    '500',
    '--warmup-bars',
    '120',
    '--max-notional',
    '1000',
    '--html',
    html,
  ]);
  expect(code).toBe(0);
  // 600 bars: past the 08:00 funding settlement.
  const perp = await backtest(io, [
    '--perp',
    '--bars',
    '600',
    '--warmup-bars',
    '120',
    '--max-notional',
    '1000',
    '--html',
    perpHtml,
  ]);
  expect(perp).toBe(0);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!available)('backtest HTML report in Chromium', () => {
  it('opens without errors or outside requests and shows the equity curve, drawdown, position and regimes', async () => {
    const page = await (browser as Browser).newPage();
    const url = pathToFileURL(html).href;
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
    page.on('request', (r) => {
      if (r.url() !== url) problems.push(`request beyond the file: ${r.url()}`);
    });
    await page.goto(url);
    const seen = await page.evaluate(() => {
      const curve = document.querySelector('#equity #equity-blend');
      const box = document.querySelector('#equity')?.getBoundingClientRect();
      return {
        points: (curve?.getAttribute('d') ?? '').split('L').length,
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        modes: document.querySelectorAll('#equity path').length,
        regimes: document.querySelectorAll('#equity rect.regime').length,
        drawdown: document.querySelectorAll('#drawdown path').length,
        position: document.querySelectorAll('#position path').length,
        aggregates: document.querySelectorAll('#aggregates tr').length,
      };
    });
    expect(problems).toEqual([]);
    expect(seen.points).toBeGreaterThan(400);
    expect(seen.width).toBeGreaterThan(300);
    expect(seen.height).toBeGreaterThan(50);
    expect(seen.modes).toBe(4);
    expect(seen.regimes).toBeGreaterThan(0);
    expect(seen.drawdown).toBe(4);
    expect(seen.position).toBe(3);
    expect(seen.aggregates).toBe(5);
    // The JSON summary is embedded for tools and parses.
    const raw = readFileSync(html, 'utf8').match(
      /<script type="application\/json" id="summary">([\s\S]*?)<\/script>/,
    )?.[1];
    expect(JSON.parse(raw ?? 'null').aggregates).toHaveLength(4);
    await page.close();
  }, 60_000);

  it('shows the perpetual section: long and short, funding paid and received, a position below zero', async () => {
    const page = await (browser as Browser).newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(pathToFileURL(perpHtml).href);
    const seen = await page.evaluate(() => {
      const cell = (row: number, col: number) =>
        document.querySelector(`#perp tr:nth-child(${row}) td:nth-child(${col})`)?.textContent ?? '';
      return {
        rows: document.querySelectorAll('#perp tr').length,
        header: document.querySelector('#perp tr')?.textContent ?? '',
        // hmm's row (modes in order blend, hmm, trend, buy_and_hold): bars short %.
        hmmShortPct: Number(cell(3, 3)),
        holdSettlements: Number(cell(5, 10)),
        zero: document.querySelector('#position-zero') !== null,
      };
    });
    expect(problems).toEqual([]);
    expect(seen.rows).toBe(5);
    expect(seen.header).toContain('funding paid');
    expect(seen.header).toContain('funding received');
    expect(seen.hmmShortPct).toBeGreaterThan(0);
    expect(seen.holdSettlements).toBe(1);
    expect(seen.zero).toBe(true);
    await page.close();
  }, 60_000);
});
