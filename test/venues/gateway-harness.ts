/**
 * Shared set-up for the gateway integration tests: a simulator on loopback with a manual market clock (prices
 * stay put unless a test moves them), gateways built by the real factory in paper mode, and the simulator's own
 * request counters (`GET /__sim/requests`) to prove what ccxt actually sent.
 */
import { type BosunGateway, type CreateGatewayOptions, createGateway } from '../../src/venues/index.js';
import type { BudgetClock } from '../../src/venues/rate-budget.js';
import { createManualClock, type RequestStats, type Simulator, startSimulator } from '../../src/venues/sim/index.js';

export type VenueName = 'binance' | 'kraken';

/** Starts a simulator with a manual market clock. */
export function startTestSim(seed = 5): Promise<Simulator> {
  return startSimulator({ seed, clock: createManualClock() });
}

/**
 * A budget clock on virtual time: a wait advances it instantly. The budget still meters every call (pressure,
 * refusals), but a Kraken starter key's 3.8 s per call does not turn the suite into minutes of sleeping.
 */
export function virtualBudgetClock(): BudgetClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: async (ms) => {
      offset += ms;
    },
  };
}

/** A paper gateway for `venue` with the simulator's default keys (or `keys`). */
export function paperGateway(
  sim: Simulator,
  venue: VenueName,
  extra: Partial<CreateGatewayOptions> = {},
): BosunGateway {
  return createGateway(venue, {
    mode: 'paper',
    simBaseUrl: sim.baseUrl,
    ...sim.keys[venue],
    timeoutMs: 3000,
    budgetClock: virtualBudgetClock(),
    // Waits are virtual: let the budget pace on its own clock rather than refuse.
    maxBudgetWaitMs: 86_400_000,
    ...extra,
  });
}

/** The simulator's request counters, read over its control API as any client would. */
export async function requestStats(sim: Simulator): Promise<RequestStats> {
  const res = await fetch(`${sim.baseUrl}/__sim/requests`);
  if (!res.ok) throw new Error(`GET /__sim/requests: ${res.status}`);
  return (await res.json()) as RequestStats;
}

/** How many `METHOD /path` requests arrived since `before`. */
export function sent(after: RequestStats, before: RequestStats, key: string): number {
  return (after.byPath[key] ?? 0) - (before.byPath[key] ?? 0);
}

/** The Bosun symbol of the venue's BTC spot market. */
export const BTC: Record<VenueName, string> = { binance: 'BTCUSDT', kraken: 'BTCUSD' };

/** The path each venue creates orders on. */
export const CREATE_PATH: Record<VenueName, string> = {
  binance: 'POST /api/v3/order',
  kraken: 'POST /0/private/AddOrder',
};

/** A limit price well under the market, rounded to the tick: the order rests. */
export function restingBuyPrice(gw: BosunGateway, symbol: string, reference: number): number {
  const tick = gw.markets('spot')[symbol]?.tickSize ?? 0.01;
  return Math.round((reference * 0.7) / tick) * tick;
}

let seq = 0;
/** A fresh clientOrderId valid at both venues. */
export function cid(tag: string): string {
  seq++;
  return `t${tag}${Date.now().toString(36)}${seq}`;
}
