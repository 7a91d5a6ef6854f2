import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { buildServer } from '../src/http/build-server.js';
import { startBareRuntime } from './support/bare-runtime.js';

/**
 * HTTP throughput and the operator command path (DESIGN §12: measure, never assert), on real listeners on
 * 127.0.0.1 over the real runtime and LMDB store.
 * - `GET /status` under autocannon (10 connections, client in a worker thread so it has its own core).
 *   Targets: ≥ 15,000 req/s, p99 ≤ 5 ms. Baseline: a bare `node:http` server answering the same body.
 * - `POST /kill` one at a time over keep-alive HTTP, alternating kill/resume with fresh Idempotency-Keys:
 *   auth, validation, a durable governance write, a durable audit append and a durable idempotent answer.
 *   Target: p99 ≤ 20 ms. Baseline: the same three durable writes called directly, without HTTP.
 */

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no types; it is CommonJS, so require it rather than add a declaration file.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const STATUS_SECONDS = 5;
const KILLS = 400;
const TOKEN = 'bench-token';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0).toFixed(3));
}

/** KILLS `POST /kill` one at a time, alternating kill and resume; the latency of each, in ms. */
async function postKills(base: string): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/kill`, {
      method: 'POST',
      headers: {
        'x-ops-token': TOKEN,
        'idempotency-key': `bench-${i}`,
        'x-ops-actor': 'bench',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `{"enabled": ${i % 2 === 1}}`,
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`POST /kill answered ${res.status}`);
    lat.push(performance.now() - t0);
  }
  return lat;
}

/** The same `POST /kill` run against a runtime with a 1,000-leaf tree: the answer waits for the broadcast. */
async function killsWithLeaves(): Promise<Record<string, number>> {
  const { metrics, log, store, runtime, close } = await startBareRuntime('bosun-http-bench-leaves-', {
    leaves: 1_000,
  });
  const app = await buildServer(
    { runtime, metrics, log, opsToken: TOKEN, idempotency: store.idempotency, audit: store.audit },
    'ops',
  );
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const lat = await postKills(`http://127.0.0.1:${portOf(app.server)}`);
    return {
      leaves: 1_000,
      n: KILLS,
      p50_ms: pct(lat, 50),
      p99_ms: pct(lat, 99),
      max_ms: pct(lat, 100),
      target_p99_ms: 20,
    };
  } finally {
    await app.close();
    await close();
  }
}

function portOf(server: Server): number {
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

async function cannon(url: string): Promise<Record<string, number>> {
  const r = await autocannon({ url, connections: 10, pipelining: 1, duration: STATUS_SECONDS, workers: 1 });
  return {
    req_per_s: Math.round(r.requests.average),
    total: r.requests.total,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const { metrics, log, store, runtime, close } = await startBareRuntime('bosun-http-bench-');
  const app = await buildServer(
    { runtime, metrics, log, opsToken: TOKEN, idempotency: store.idempotency, audit: store.audit },
    'ops',
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${portOf(app.server)}`;

  // Baseline: the same /status body from a bare node:http handler.
  const bare = createServer((_req, res) => {
    const g = runtime.governance();
    const body = JSON.stringify({
      trading_enabled: g.global.state === 'ACTIVE',
      trading_state: g.global.state,
      governance: g,
      health: runtime.health(),
      ready: runtime.ready(),
      snapshot_loaded: false,
      ...runtime.statusExtras(),
    });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));

  try {
    await cannon(`${base}/status`); // warm-up (JIT, connection setup)
    const status = await cannon(`${base}/status`);
    const statusBaseline = await cannon(`http://127.0.0.1:${portOf(bare)}/status`);

    const lat = await postKills(base);

    const direct: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const t0 = performance.now();
      const key = `direct-${i}`;
      store.idempotency.begin(key, `h${i}`, 'bench');
      const after = await runtime.setTrading({
        scope: 'global',
        state: i % 2 === 1 ? 'ACTIVE' : 'HALTED',
        reason: 'bench',
        actor: 'bench',
        command: 'kill',
      });
      const a = await store.audit.append({ actor: 'bench', action: 'kill', target: 'global', after, result: 'ok' });
      await store.idempotency.complete(key, 200, { governance: after, audit: { seq: a.seq } });
      direct.push(performance.now() - t0);
    }

    return {
      status_get: { ...status, target_req_per_s: 15_000, target_p99_ms: 5 },
      status_get_baseline_node_http: statusBaseline,
      status_fastify_vs_baseline: Number((status.req_per_s! / statusBaseline.req_per_s!).toFixed(2)),
      kill_post: {
        n: KILLS,
        p50_ms: pct(lat, 50),
        p99_ms: pct(lat, 99),
        max_ms: pct(lat, 100),
        target_p99_ms: 20,
        durable_writes_per_request: 3,
      },
      kill_baseline_direct_calls: { n: KILLS, p50_ms: pct(direct, 50), p99_ms: pct(direct, 99) },
      kill_post_1000_leaves: await killsWithLeaves(),
    };
  } finally {
    await new Promise<void>((r) => bare.close(() => r()));
    await app.close();
    await close();
  }
}
