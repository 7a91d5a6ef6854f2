import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBosun } from '../test/support/bosun-process.js';

/**
 * Process start → `/readyz` 200 (build excluded: runs dist/main.bundle.mjs, what `npm start` runs), and SIGTERM → exit,
 * over a few runs (the timings test/process/boot.test.ts used to assert). Targets: readyz ≤ 1,000 ms (2,000 was the
 * old test bound), exit ≤ 2,000 ms.
 */
export async function run(): Promise<Record<string, unknown>> {
  const ready: number[] = [];
  const stop: number[] = [];
  for (let i = 0; i < 5; i++) {
    const p = await startBosun({}, join(mkdtempSync(join(tmpdir(), 'bosun-bench-start-')), 'state'));
    const res = await fetch(`${p.engine}/readyz`);
    if (res.status !== 200) throw new Error(`readyz ${res.status}`);
    ready.push(performance.now() - p.startedAt);
    const t0 = performance.now();
    const exit = await p.stop('SIGTERM');
    if (exit.code !== 0) throw new Error(`exit ${JSON.stringify(exit)}`);
    stop.push(performance.now() - t0);
  }
  const r = (xs: number[]) => xs.map((x) => Math.round(x));
  return {
    start_to_readyz_ms: r(ready),
    start_to_readyz_max_ms: Math.round(Math.max(...ready)),
    sigterm_to_exit_ms: r(stop),
    target_start_ms: 1000,
    target_exit_ms: 2000,
  };
}
