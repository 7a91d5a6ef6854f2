// Takes the README's inspector screenshots (docs/img/) with Debian's chromium: the built Bosun trading on the
// simulator with faults injected on Binance before the page opens (a DEGRADED then HALTED connection: statechart,
// its last transitions and health strip, from Bosun's records), and the
// real runtime with 1,000 symbol actors (the filtered tree). Run after `npm run build`:
//   npx tsx scripts/inspector-screenshots.ts
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startSymbolsStack } from '../test/http/support/symbols-stack.js';
import { startBosun } from '../test/support/bosun-process.js';
import { startVenue, tradingEnv } from '../test/trading/support.js';

const OUT = join(import.meta.dirname, '../docs/img');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function open(page: Page, id: string): Promise<void> {
  await page.fill('#filter', id);
  await page.click(`#tree .row[data-actor-id="${id}"] .id`);
  await page.waitForSelector(`#chart[data-actor="${id}"][data-ready="true"]`, { timeout: 30_000 });
  await page.fill('#filter', '');
  await page.waitForSelector('#tree[data-filtering="false"]', { state: 'attached' });
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
});
try {
  const sim = await startVenue(23);
  const bosun = await startBosun(tradingEnv(sim, { TRADE_SYMBOLS: 'BTCUSDT,ETHUSDT' }));
  try {
    const fault = (spec: Record<string, unknown>) =>
      fetch(`${sim.baseUrl}/__sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
    const connHealth = async () =>
      ((await (await fetch(`${bosun.engine}/actors/conn:binance`)).json()) as { health: string }).health;
    const reach = async (health: string) => {
      for (let i = 0; i < 600 && (await connHealth()) !== health; i++) await new Promise((r) => setTimeout(r, 100));
    };
    // The faults land before the page opens: what it shows of them (transitions, strip) is Bosun's own record.
    await fault({ kind: 'http_429', venue: 'binance', count: 1 });
    await reach('DEGRADED');
    await fault({ kind: 'http_418', venue: 'binance', count: 1 });
    await reach('HALTED');
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`${bosun.engine}/inspector`);
    await page.waitForSelector('#conn[data-state="open"]');
    await page.waitForSelector('#tree .row[data-actor-id="conn:binance"][data-health="HALTED"]');
    await open(page, 'conn:binance');
    await page.waitForSelector('#health-strip .seg[data-health="HALTED"]');
    await page.waitForSelector('#transitions[data-count]');
    await page.screenshot({ path: join(OUT, 'inspector.png') });
    await page.locator('#chart').screenshot({ path: join(OUT, 'inspector-statechart.png') });
    await open(page, 'sym:binance:BTCUSDT');
    await page.locator('#chart').screenshot({ path: join(OUT, 'inspector-statechart-symbol.png') });
    await page.close();
  } finally {
    await bosun.stop();
    await sim.close();
  }

  const stack = await startSymbolsStack(1_000);
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`${stack.base}/inspector`);
    await page.waitForSelector('#conn[data-state="open"]');
    await page.fill('#filter', 'S04');
    await page.waitForSelector('#tree[data-matches="100"]', { state: 'attached' });
    await page.click('#tree .row[data-actor-id="sym:binance:S0401USDT"] .id');
    await page.waitForSelector('#chart[data-actor="sym:binance:S0401USDT"][data-ready="true"]');
    await page.screenshot({ path: join(OUT, 'inspector-1000-symbols.png') });
    await page.close();
  } finally {
    await stack.close();
  }
} finally {
  await browser.close();
}
console.log(`screenshots written to ${OUT}`);
