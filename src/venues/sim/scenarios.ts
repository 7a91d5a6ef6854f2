/**
 * Market scenarios: a USDT (or USDC) depeg, a funding-rate spike, a venue outage and a flash crash. Each is a
 * change to the market's multipliers or a fault installed on the venue; `clear()` (part of reset) undoes all.
 */
import type { FaultBook } from './faults.js';
import type { Market } from './market.js';
import { type ScenarioInfo, type ScenarioInput, scenarioSpecSchema } from './scenario.schema.js';

/** A scenario that parses but names something the simulator does not list (reported as 400). */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

export class Scenarios {
  private active: ScenarioInfo[] = [];
  private seq = 0;

  constructor(
    private readonly market: Market,
    private readonly faults: FaultBook,
    private readonly now: () => number,
  ) {}

  run(input: ScenarioInput): ScenarioInfo {
    const spec = scenarioSpecSchema.parse(input);
    const t = this.now();
    switch (spec.kind) {
      case 'depeg':
        this.market.depeg(spec.asset, spec.pct, t, spec.rampMs);
        break;
      case 'funding_spike': {
        let id: string | undefined;
        if (spec.symbol !== undefined) {
          const s = spec.symbol.toUpperCase().replace(/:.*$/, '').replace('/', '');
          if (this.market.market('binance', 'perp', s) === undefined)
            throw new ScenarioError(`no perpetual "${spec.symbol}" (try BTCUSDT)`);
          id = s;
        }
        this.market.fundingSpike(id, spec.rate, spec.durationMs === undefined ? undefined : t + spec.durationMs);
        break;
      }
      case 'venue_outage':
        this.faults.add({
          kind: 'http_5xx',
          venue: spec.venue,
          status: spec.status,
          ...(spec.durationMs === undefined ? {} : { durationMs: spec.durationMs }),
        });
        break;
      case 'flash_crash': {
        const asset = this.market.assetOf(spec.symbol);
        if (asset === undefined) throw new ScenarioError(`unknown symbol or asset "${spec.symbol}"`);
        this.market.flashCrash(asset, spec.pct, t, spec.durationMs, spec.recoverMs);
        break;
      }
    }
    const info: ScenarioInfo = { id: `s${++this.seq}`, spec, startedAtMs: t };
    this.active.push(info);
    return info;
  }

  list(): ScenarioInfo[] {
    return this.active.map((s) => ({ ...s }));
  }

  clear(): void {
    this.active = [];
    this.market.resetScenarios();
  }
}
