/**
 * The simulator's market-data push does not hold up its order entry: a push of 1,000 tickers is handed to the
 * connections in slices, and a REST request that arrives meanwhile is answered before the push ends (a venue's
 * ticker fan-out does not queue its order gateway). Before, one push of 1,000 tickers ran to its end on the
 * simulator's thread (~200 ms in the stream tick→order bench) and a create sent in answer to its first ticker
 * waited for all of it. Checked on the simulator's own sequence of events (its probe), not on a clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Simulator, startSimulator } from '../../src/venues/sim/index.js';

const CONNECTIONS = 10;
const PER_CONNECTION = 100;

let sim: Simulator;
let tickersSent = 0;
/** Tickers already handed to sockets when each `/api/v3/time` request reached the simulator. */
const requestsAt: number[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    seed: 5,
    extraAlts: CONNECTIONS * PER_CONNECTION,
    // Pushes only when the test asks.
    streams: { pushMs: 3_600_000 },
    probe: {
      sent: (_venue, msg) => {
        if ((msg as { e?: unknown }).e === '24hrTicker') tickersSent += 1;
      },
      request: (_venue, req) => {
        if (req.path === '/api/v3/time') requestsAt.push(tickersSent);
      },
    },
  });
});

afterAll(async () => {
  for (const s of sockets) s.terminate();
  await sim.close();
});

async function subscribed(n: number): Promise<{ got: string[] }> {
  const ws = new WebSocket(`${sim.baseUrl.replace('http', 'ws')}/ws/${n}`);
  sockets.push(ws);
  const got: string[] = [];
  const acked = new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { e?: string; s?: string; id?: number; result?: unknown };
      if (m.id === 1) resolve();
      else if (m.e === '24hrTicker' && m.s !== undefined) got.push(m.s);
    });
    ws.once('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const params = Array.from({ length: PER_CONNECTION }, (_, i) => `alt${n * PER_CONNECTION + i + 1}usdt@ticker`);
  ws.send(JSON.stringify({ method: 'SUBSCRIBE', params, id: 1 }));
  await acked;
  return { got };
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('simulator market-data push', () => {
  it('answers a request that arrives during a 1,000-ticker push before the push ends; every connection gets its tickers in order', async () => {
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, (_, n) => subscribed(n)));
    const time = `${sim.baseUrl}/api/v3/time`;
    // A warm keep-alive connection, so the request below is one write.
    expect((await fetch(time)).status).toBe(200);
    requestsAt.length = 0;
    tickersSent = 0;

    sim.streams.push();
    const answer = await fetch(time);
    expect(answer.status).toBe(200);
    await until('every ticker of the push', () => tickersSent === CONNECTIONS * PER_CONNECTION);

    expect(requestsAt).toHaveLength(1);
    expect(requestsAt[0]).toBeLessThan(CONNECTIONS * PER_CONNECTION);
    await until('every client to read its tickers', () => clients.every((c) => c.got.length === PER_CONNECTION));
    clients.forEach((c, n) => {
      expect(c.got).toEqual(Array.from({ length: PER_CONNECTION }, (_, i) => `ALT${n * PER_CONNECTION + i + 1}USDT`));
    });
  });
});
