import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line) and prints one JSON
 * document with each benchmark's measured figures. Benchmarks measure; they never assert.
 */
const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length, date: new Date().toISOString() },
};
for (const f of files) {
  const name = f.replace(/\.bench\.ts$/, '');
  const started = performance.now();
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as { run: () => Promise<Record<string, unknown>> };
    results[name] = { ...(await mod.run()), wall_ms: Math.round(performance.now() - started) };
  } catch (e) {
    results[name] = { error: e instanceof Error ? e.message : String(e) };
  }
  process.stderr.write(`bench ${name} done\n`);
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
