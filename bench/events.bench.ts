import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createExternalFeed } from '../src/actors/breakout.actors.js';
import { buildServer } from '../src/http/build-server.js';
import { startBareRuntime } from './support/bare-runtime.js';

/**
 * `POST /events/external` with signature checks (issue 6 benchmarks), on the real engine listener over the real
 * runtime and LMDB store: every request a distinct event signed with HMAC-SHA256 of its raw body, verified in
 * constant time before JSON.parse, zod-validated, replay-checked and published onto `events.external_feed` (one
 * subscriber counting). autocannon runs in a worker thread (10 connections, no pipelining); the signing happens
 * there too and shares the 2 cores. Targets: ≥ 10,000 req/s, p99 ≤ 5 ms. Also: the same load with a wrong
 * secret (every request refused with 401 after the HMAC).
 */

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = 5;
const SECRET = 'bench-events-secret-4b1d';
const SETUP = join(dirname(fileURLToPath(import.meta.url)), 'support', 'events-setup-request.cjs');

async function cannon(url: string, seconds: number): Promise<Record<string, unknown>> {
  const r = await autocannon({
    url,
    connections: 10,
    pipelining: 1,
    duration: seconds,
    workers: 1,
    requests: [{ setupRequest: SETUP }],
  });
  return {
    req_per_s: Math.round(r.requests.average),
    total: r.requests.total,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    status_codes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const { metrics, log, store, runtime, close } = await startBareRuntime('bosun-events-bench-');
  const feed = createExternalFeed();
  let published = 0;
  feed.subscribe(() => {
    published += 1;
  });
  const app = await buildServer(
    {
      runtime,
      metrics,
      log,
      opsToken: 'bench-token',
      idempotency: store.idempotency,
      audit: store.audit,
      events: { secret: SECRET, maxBodyBytes: 65_536, publish: feed.publish },
    },
    'engine',
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/events/external`;
  process.env.BENCH_EVENTS_SECRET = SECRET;

  try {
    await cannon(url, 2); // warm-up (JIT, connection setup)
    const before = published;
    const accepted = await cannon(url, SECONDS);
    const publishedInRun = published - before;
    process.env.BENCH_EVENTS_BAD_SIGNATURE = '1';
    const refused = await cannon(url, SECONDS);
    return {
      signed_accepted: { ...accepted, published: publishedInRun, target_req_per_s: 10_000, target_p99_ms: 5 },
      bad_signature_refused: refused,
    };
  } finally {
    delete process.env.BENCH_EVENTS_BAD_SIGNATURE;
    delete process.env.BENCH_EVENTS_SECRET;
    await app.close();
    await close();
  }
}
