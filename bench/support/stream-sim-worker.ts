import { parentPort, workerData } from 'node:worker_threads';
import { type SimRequest, startSimulator } from '../../src/venues/sim/index.js';

/**
 * The simulator on its own thread (so its 1,000-ticker pushes do not run on Bosun's event loop), for
 * bench/stream-tick-to-order.bench.ts. It pushes every subscribed ticker `pushesPerBar` times a bar, the first push just after
 * each bar boundary (the push that closes every symbol's bar), and measures on its own clock, per order Bosun
 * sends: from the moment that push handed the order's symbol's ticker to its socket to the moment the create
 * (`POST /api/v3/order`) arrived. Both ends are in this thread: one clock, no cross-thread offset.
 */
export interface WorkerInput {
  symbols: number;
  barMs: number;
  /** Pushes per bar (the first closes the bar). */
  pushesPerBar: number;
  /** Delay of the closing push after the bar boundary (ms). */
  closeOffsetMs: number;
  seed: number;
}

export interface WorkerOrder {
  symbol: string;
  /** Emission of the symbol's bar-closing ticker → the create's arrival (ms, this thread's clock). */
  ms: number;
  /** Epoch ms (high resolution) of both ends, for the cross-thread stage split. */
  emitAbs: number;
  arriveAbs: number;
}

const input = workerData as WorkerInput;
const trace = process.env.T2O_TRACE === '1';
const abs = () => performance.timeOrigin + performance.now();

/** Emission time of each Binance symbol's latest bar-closing ticker. */
const closing = new Map<string, number>();
/** Whether the push under way closes the bar. */
let closingPush = false;
let closingPushes = 0;
let tickersSent = 0;
let traced = 0;
const orders: WorkerOrder[] = [];
let unmatched = 0;

function onRequest(_venue: string, req: SimRequest): void {
  if (req.method !== 'POST' || req.path !== '/api/v3/order') return;
  const at = performance.now();
  const params = new URLSearchParams(req.rawBody.length > 0 ? req.rawBody : req.rawQuery);
  const symbol = params.get('symbol') ?? '';
  const emitted = closing.get(symbol);
  // An order more than one bar after its symbol's closing ticker did not come from that tick.
  if (emitted === undefined || at - emitted > input.barMs) {
    unmatched += 1;
    return;
  }
  orders.push({ symbol, ms: at - emitted, emitAbs: performance.timeOrigin + emitted, arriveAbs: abs() });
}

const sim = await startSimulator({
  host: '127.0.0.1',
  port: 0,
  seed: input.seed,
  priceStepMs: 100,
  extraAlts: Math.max(0, input.symbols - 7),
  // Pushes come from the schedule below only.
  streams: { pushMs: 3_600_000 },
  probe: {
    request: onRequest,
    sent: (_venue, msg) => {
      const m = msg as { e?: unknown; s?: unknown };
      if (m.e !== '24hrTicker' || typeof m.s !== 'string') return;
      tickersSent += 1;
      // The simulator hands a push over connection by connection (it yields between them): each symbol's
      // bar-closing emission is noted as it goes, and an order is matched to its symbol's latest one.
      if (closingPush) closing.set(m.s, performance.now());
    },
  },
});

let timer: NodeJS.Timeout | undefined;
let stopped = false;
function schedule(): void {
  if (stopped) return;
  const every = input.barMs / input.pushesPerBar;
  const now = Date.now();
  const sinceBoundary = now % input.barMs;
  // The next push slot: the closing one at boundary + offset, the others evenly after it.
  const slot = Math.floor((sinceBoundary - input.closeOffsetMs) / every) + 1;
  const at = now - sinceBoundary + input.closeOffsetMs + slot * every;
  timer = setTimeout(
    () => {
      const isClosing = Date.now() % input.barMs < every;
      closingPush = isClosing;
      if (isClosing) closingPushes += 1;
      sim.streams.push();
      // `T2O_TRACE=1`: every 10 closing pushes, the tickers sent per push since the last line and the connections.
      if (trace && isClosing && closingPushes % 10 === 0) {
        const perPush = (tickersSent - traced) / 10;
        traced = tickersSent;
        process.stderr.write(
          `${JSON.stringify({ t: Math.round(performance.now()), perPush, ...sim.streams.stats() })}\n`,
        );
      }
      schedule();
    },
    Math.max(0, at - now),
  );
}
schedule();

parentPort?.on('message', async (m: { type: string }) => {
  if (m.type !== 'stop') return;
  stopped = true;
  clearTimeout(timer);
  parentPort?.postMessage({ type: 'result', orders, unmatched, closingPushes, tickersSent });
  await sim.close();
  process.exit(0);
});
parentPort?.postMessage({ type: 'ready', baseUrl: sim.baseUrl, keys: sim.keys });
