import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { open } from 'lmdb';
import type { Durability } from '../src/store/commit-guard.js';
import { openStore, type Store } from '../src/store/index.js';

/**
 * Durable journal append rate (DESIGN §12: measure, never assert). Three shapes: a burst issued in one event
 * turn (one commit), 64 concurrent writers each awaiting its own ack (how actors use it), and one-at-a-time
 * awaited appends (the latency an operator command or order intent pays). Baseline: raw lmdb-js puts of the
 * same records in the same run, without sequencing, validation, the commit guard or the JSONL mirror.
 */

const BURST = 20_000;
const WRITERS = 64;
const PER_WRITER = 150;
const SEQUENTIAL = 1_000;
const PACED_TURNS = 2_000;
const PER_TURN = 5;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0).toFixed(3));
}

const entry = (i: number) => ({
  type: i % 3 === 0 ? 'order.intent' : 'order.ack',
  clientOrderId: `bn-${i}`,
  venue: 'binance',
  symbol: 'BTC/USDT',
  qty: 0.001,
  px: 64_000.5,
});

async function measure(append: (i: number) => Promise<unknown>, mirrorsIdle?: () => Promise<void>) {
  let t0 = performance.now();
  await Promise.all(Array.from({ length: BURST }, (_, i) => append(i)));
  const burstPerSec = Math.round(BURST / ((performance.now() - t0) / 1000));
  // Breakdown only: the same burst counted until its mirror lines are written too (they follow the acks).
  if (mirrorsIdle) await mirrorsIdle();
  const burstWithMirrorsPerSec = Math.round(BURST / ((performance.now() - t0) / 1000));

  t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < PER_WRITER; i++) await append(w * PER_WRITER + i);
    }),
  );
  const writersPerSec = Math.round((WRITERS * PER_WRITER) / ((performance.now() - t0) / 1000));

  // Paced: a few appends in every event turn, each acked on its own (the engine's intents under a stream of bars):
  // the turns that come while a commit is in flight share the next commit (group commit), so an ack waits for
  // the commit that holds it and not for one commit per turn queued before it.
  const paced: number[] = [];
  const acks: Promise<unknown>[] = [];
  t0 = performance.now();
  for (let turn = 0; turn < PACED_TURNS; turn++) {
    for (let k = 0; k < PER_TURN; k++) {
      const s = performance.now();
      acks.push(append(turn * PER_TURN + k).then(() => paced.push(performance.now() - s)));
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(acks);
  const pacedPerSec = Math.round((PACED_TURNS * PER_TURN) / ((performance.now() - t0) / 1000));

  const lat: number[] = [];
  t0 = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const s = performance.now();
    await append(i);
    lat.push(performance.now() - s);
  }
  const seqPerSec = Math.round(SEQUENTIAL / ((performance.now() - t0) / 1000));
  return {
    burst_appends_per_s: burstPerSec,
    ...(mirrorsIdle ? { breakdown_burst_until_mirror_lines_written_per_s: burstWithMirrorsPerSec } : {}),
    writers64_appends_per_s: writersPerSec,
    paced_appends_per_s: pacedPerSec,
    paced_ack_p50_ms: pct(paced, 50),
    paced_ack_p99_ms: pct(paced, 99),
    sequential_appends_per_s: seqPerSec,
    sequential_p50_ms: pct(lat, 50),
    sequential_p99_ms: pct(lat, 99),
    sequential_max_ms: pct(lat, 100),
  };
}

async function journal(durability: Durability) {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-bench-journal-'));
  let store: Store | undefined;
  try {
    store = await openStore({ dir: join(dir, 'db'), logsDir: join(dir, 'logs'), durability });
    const s = store;
    const figures = await measure(
      (i) => s.journal.append(entry(i)),
      () => s.mirrorsIdle(),
    );
    await s.mirrorsIdle();
    return { ...figures, entries: s.journal.lastSeq(), commits: s.stats().lastTxnId, loadavg: os.loadavg() };
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Plain lmdb-js: `await put`, then (for `flushed`) the put's own flush promise, exactly what the guard awaits. */
async function rawLmdb(durability: Durability) {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-bench-raw-'));
  const root = open({ path: dir, maxDbs: 4, separateFlushed: true });
  try {
    const db = root.openDB<Record<string, unknown>, number>({ name: 'journal' });
    let seq = 0;
    return await measure(async (i) => {
      const p = db.put(++seq, { seq, ts: Date.now(), ...entry(i) }) as Promise<boolean> & {
        flushed?: PromiseLike<unknown>;
      };
      await p;
      if (durability === 'flushed') await p.flushed;
    });
  } finally {
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  return {
    journal_flushed: await journal('flushed'),
    journal_committed: await journal('committed'),
    baseline_raw_lmdb_flushed: await rawLmdb('flushed'),
    baseline_raw_lmdb_committed: await rawLmdb('committed'),
    note: 'flushed = ack after fsync (default, survives power loss); committed = ack once visible (survives kill -9)',
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
