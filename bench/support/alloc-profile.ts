import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * The sampling heap profiler over `work`, counting objects the young and old collections freed as well (Node's
 * `--heap-prof` keeps only the survivors, which hides exactly the short-lived garbage of a hot path). Writes a
 * `.heapprofile` (Chrome DevTools) and returns the top allocation sites by bytes.
 */
export async function allocationProfile(work: () => void | Promise<void>, file?: string, top = 15) {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as never);
  await work();
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
    profile: { head: Node };
  };
  session.disconnect();
  if (file) writeFileSync(file, JSON.stringify(profile));
  const sites = new Map<string, number>();
  const walk = (n: Node) => {
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  return [...sites.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([site, bytes]) => ({ site, pct: Number(((bytes / total) * 100).toFixed(1)) }));
}

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}
