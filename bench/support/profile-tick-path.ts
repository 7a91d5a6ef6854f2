import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allocationProfile } from './alloc-profile.js';

/**
 * Where the tick path's time and bytes go (issue 17): runs the tick-to-order bench under the sampling heap
 * profiler (freed objects counted too) and, when Node was started with `--cpu-prof --cpu-prof-dir=DIR`, summarises
 * the CPU profile Node writes at exit on the next call (`summarise DIR`). Prints JSON; measures, never asserts.
 *
 *   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/t2o --import tsx bench/support/profile-tick-path.ts
 *   node --import tsx bench/support/profile-tick-path.ts summarise /tmp/t2o
 */
interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
}

const frame = (f: CpuNode['callFrame']) =>
  `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}${f.url ? `:${f.lineNumber + 1}` : ''}`;

/** Self time by frame and by file (ms and % of the sampled time), the top `top` of each. */
export function summariseCpu(profile: CpuProfile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i] as number);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!n) continue;
    total += dt;
    const key = frame(n.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const url = n.callFrame.url;
    const file = url.includes('node_modules/')
      ? `node_modules/${url.split('node_modules/')[1]?.split('/')[0]}`
      : url.split('/').slice(-2).join('/') || n.callFrame.functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + dt);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([site, ms]) => ({ site, ms: Math.round(ms), pct: Number(((ms / total) * 100).toFixed(1)) }));
  return { sampled_ms: Math.round(total), self_by_frame: rank(self), self_by_file: rank(byFile) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === 'summarise') {
    const dir = process.argv[3] as string;
    const file = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .at(-1) as string;
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    process.stdout.write(`${JSON.stringify(summariseCpu(profile), null, 2)}\n`);
  } else {
    const { run } = (await import('../tick-to-order.bench.js')) as { run: () => Promise<Record<string, unknown>> };
    let figures: Record<string, unknown> = {};
    const sites = await allocationProfile(
      async () => {
        figures = await run();
      },
      process.env.BOSUN_HEAPPROFILE,
      25,
    );
    process.stdout.write(`${JSON.stringify({ allocation_sites: sites, figures }, null, 2)}\n`);
    process.exit(0);
  }
}
