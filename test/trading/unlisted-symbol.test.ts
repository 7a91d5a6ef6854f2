import { afterAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';
import { type InProcessBosun, startInProcess } from './in-process.js';
import { until } from './support.js';

/**
 * A configured symbol the venue does not list (a typo, a delisting) used to give a healthy symbol actor with
 * 0 ticks, forever. Now its actor is DEGRADED with the reason, and the listed symbols keep ticking.
 */
let sim: Simulator | undefined;
let bosun: InProcessBosun | undefined;
afterAll(async () => {
  await bosun?.stop();
  await sim?.close();
});

describe('an unlisted configured symbol', () => {
  it('is refused with its reason (DEGRADED), while the listed ones tick', async () => {
    sim = await startSimulator({ seed: 23 });
    bosun = await startInProcess(sim, { VENUES: 'binance', TRADE_SYMBOLS: 'BTCUSDT,NOPEUSDT' });
    const rt = bosun.runtime;
    const refused = await until('sym:binance:NOPEUSDT refused', () => {
      const a = rt.actor('sym:binance:NOPEUSDT');
      return a?.health === 'DEGRADED' ? a : undefined;
    });
    expect(refused.reason).toBe('unlisted: NOPEUSDT is not listed at binance');
    expect(rt.actor('sym:binance:BTCUSDT')?.health).toBe('OK');
  });
});
