import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigFileError } from './config-error.js';
import { type ConfigChangeInfo, type ConfigFileWatcher, createConfigFileWatcher } from './file-watcher.js';
import { PoliciesFileSchema, StrategyWeightsFileSchema } from './files.schema.js';

type Ev =
  | { kind: 'change'; name: string; value: unknown; info: ConfigChangeInfo }
  | { kind: 'error'; name: string; error: ConfigFileError };

/** Callback events as a queue: `next()` resolves with the next one, so tests wait on events, never sleep. */
function recorder() {
  const all: Ev[] = [];
  const queue: Ev[] = [];
  const waiting: ((e: Ev) => void)[] = [];
  const push = (e: Ev) => {
    all.push(e);
    const w = waiting.shift();
    if (w) w(e);
    else queue.push(e);
  };
  return {
    all,
    next: (): Promise<Ev> => {
      const e = queue.shift();
      return e ? Promise.resolve(e) : new Promise((r) => waiting.push(r));
    },
    drain: () => queue.splice(0),
    onChange: (name: string, value: unknown, info: ConfigChangeInfo) => push({ kind: 'change', name, value, info }),
    onError: (name: string, error: ConfigFileError) => push({ kind: 'error', name, error }),
  };
}

let dir: string;
let watcher: { close(): void } | undefined;
const weightsPath = () => join(dir, 'strategy_weights.json');
const policiesPath = () => join(dir, 'policies.yaml');

/** Writes like an editor or the weights route: a temp file renamed over the target. */
let saves = 0;
function saveAtomically(path: string, text: string): void {
  const tmp = `${path}.${++saves}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const weights = (stable: number, canary: number) =>
  JSON.stringify({ weights: { stable_model: stable, canary_model: canary } });

async function start(opts: { watch?: boolean; pollMs?: number; withPolicies?: boolean } = {}) {
  const rec = recorder();
  const files = [
    {
      name: 'strategy_weights',
      path: weightsPath(),
      schema: StrategyWeightsFileSchema,
      defaultValue: { weights: { stable_model: 1 } },
    },
    ...(opts.withPolicies
      ? [{ name: 'policies' as const, path: policiesPath(), schema: PoliciesFileSchema, defaultValue: {} }]
      : []),
  ] as const;
  const w: ConfigFileWatcher<typeof files> = await createConfigFileWatcher({
    files,
    pollMs: opts.pollMs ?? 60_000,
    watch: opts.watch ?? true,
    debounceMs: 10,
    onChange: rec.onChange,
    onError: rec.onError,
  });
  watcher = w;
  return { w, rec };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bosun-config-'));
});

afterEach(() => {
  watcher?.close();
  watcher = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('createConfigFileWatcher', () => {
  it('loads every file at start and serves it from current()', async () => {
    writeFileSync(weightsPath(), weights(0.7, 0.3));
    writeFileSync(policiesPath(), 'limits:\n  max_notional_usdt: 50\n');
    const { w, rec } = await start({ withPolicies: true });
    expect(rec.all.map((e) => `${e.kind}:${e.name}`).sort()).toEqual(['change:policies', 'change:strategy_weights']);
    expect(w.current('strategy_weights').weights.stable_model).toBeCloseTo(0.7);
    expect(w.current('policies').limits.max_notional_usdt).toBe(50);
  });

  it('applies a good edit saved by rename, seen through the directory watch', async () => {
    writeFileSync(weightsPath(), weights(0.7, 0.3));
    const { w, rec } = await start({ watch: true, pollMs: 60_000 });
    rec.drain();
    saveAtomically(weightsPath(), weights(0.5, 0.5));
    const e = await rec.next();
    expect(e.kind).toBe('change');
    expect(w.current('strategy_weights').weights).toEqual({ stable_model: 0.5, canary_model: 0.5 });
  });

  it('keeps the last good version on a bad edit and reports the file and the issue', async () => {
    writeFileSync(weightsPath(), weights(0.7, 0.3));
    const { w, rec } = await start();
    rec.drain();
    saveAtomically(weightsPath(), JSON.stringify({ weights: { stable_model: -1, canary_model: 1 } }));
    const e = await rec.next();
    if (e.kind !== 'error') throw new Error(`expected an error event, got ${e.kind}`);
    expect(e.name).toBe('strategy_weights');
    expect(e.error.fallback).toBe('last-good');
    expect(e.error.message).toContain(weightsPath());
    expect(e.error.message).toContain('weights.stable_model: expected a weight ≥ 0');
    expect(w.current('strategy_weights').weights.stable_model).toBeCloseTo(0.7);

    // Fixing the file recovers (the config actor goes back to OK on this change).
    saveAtomically(weightsPath(), weights(0.6, 0.4));
    expect((await rec.next()).kind).toBe('change');
    expect(w.current('strategy_weights').weights.stable_model).toBeCloseTo(0.6);
  });

  it('reports unparsable YAML and keeps the last good policy', async () => {
    writeFileSync(weightsPath(), weights(1, 0));
    writeFileSync(policiesPath(), 'limits:\n  max_notional_usdt: 50\n');
    const { w, rec } = await start({ withPolicies: true });
    rec.drain();
    saveAtomically(policiesPath(), 'limits: [unclosed\n');
    const e = await rec.next();
    if (e.kind !== 'error') throw new Error('expected an error event');
    expect(e.name).toBe('policies');
    expect(e.error.message).toMatch(/policies\.yaml: cannot parse: .*; keeping the last good version/);
    expect(w.current('policies').limits.max_notional_usdt).toBe(50);
  });

  it('catches a change through the poll alone when fs.watch is not used', async () => {
    writeFileSync(weightsPath(), weights(0.7, 0.3));
    const { w, rec } = await start({ watch: false, pollMs: 20 });
    rec.drain();
    saveAtomically(weightsPath(), weights(0.2, 0.8));
    const e = await rec.next();
    expect(e.kind).toBe('change');
    expect(w.current('strategy_weights').weights.canary_model).toBeCloseTo(0.8);
  });

  it('does not apply the same content twice when both the watch and the poll see it', async () => {
    writeFileSync(weightsPath(), weights(0.7, 0.3));
    const { w, rec } = await start({ watch: true, pollMs: 20 });
    rec.drain(); // the initial load
    saveAtomically(weightsPath(), weights(0.5, 0.5));
    expect((await rec.next()).kind).toBe('change');
    await w.reloadNow();
    await w.reloadNow();
    expect(rec.all.filter((e) => e.kind === 'change')).toHaveLength(2); // initial + one edit
    expect(rec.all.filter((e) => e.kind === 'error')).toHaveLength(0);
  });

  it('reports a bad file once, not on every poll', async () => {
    writeFileSync(weightsPath(), weights(0.7, 0.3));
    const { w, rec } = await start({ watch: false, pollMs: 20 });
    saveAtomically(weightsPath(), '{"weights":');
    expect((await rec.next()).kind).toBe('change'); // initial load
    expect((await rec.next()).kind).toBe('error');
    await w.reloadNow();
    expect(rec.all.filter((e) => e.kind === 'error')).toHaveLength(1);
  });

  it('uses the defaults when a file is missing at start, then applies it when it appears', async () => {
    const { w, rec } = await start();
    const first = await rec.next();
    expect(first).toMatchObject({ kind: 'change', info: { source: 'default' } });
    expect(w.current('strategy_weights').weights).toEqual({ stable_model: 1, canary_model: 0 });
    saveAtomically(weightsPath(), weights(0.7, 0.3));
    await w.reloadNow();
    expect(await rec.next()).toMatchObject({ kind: 'change', info: { source: 'file' } });
  });

  it('falls back to the defaults and reports when a file is bad at start', async () => {
    writeFileSync(weightsPath(), weights(0, 0));
    const { w, rec } = await start();
    expect(rec.all.map((e) => e.kind)).toEqual(['change', 'error']);
    const err = rec.all[1];
    if (err?.kind !== 'error') throw new Error('expected an error event');
    expect(err.error.fallback).toBe('default');
    expect(err.error.message).toContain('at least one weight must be > 0; using defaults');
    expect(w.current('strategy_weights').weights.stable_model).toBe(1);
  });

  it('keeps the last good version when the file is deleted', async () => {
    writeFileSync(weightsPath(), weights(0.7, 0.3));
    const { w, rec } = await start();
    rec.drain();
    unlinkSync(weightsPath());
    await w.reloadNow();
    const e = await rec.next();
    if (e.kind !== 'error') throw new Error('expected an error event');
    expect(e.error.message).toContain('file is missing; keeping the last good version');
    expect(w.current('strategy_weights').weights.stable_model).toBeCloseTo(0.7);
  });

  it('refuses a poll period above 60 s', async () => {
    await expect(
      createConfigFileWatcher({ files: [], pollMs: 61_000, onChange: () => {}, onError: () => {} }),
    ).rejects.toThrow(/pollMs must be in 1\.\.60000/);
  });
});
