import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TREND_DEFAULTS } from '../strategies/trend.js';
import { recordOutcome } from '../strategies/trend-auto-tune.js';
import { createAutoTuneFile } from './trend-auto-tune.file.js';

const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-autotune-'));
  const path = join(dir, 'runtime', 'trend_auto_tune.json');
  return { dir, path, file: createAutoTuneFile(path, TREND_DEFAULTS, () => 1_700_000_000_000) };
};

describe('trend auto-tune file', () => {
  it('missing file means env defaults', () => {
    const { file } = fresh();
    const r = file.load();
    expect(r.source).toBe('defaults');
    expect(r.state.params).toEqual(TREND_DEFAULTS);
  });

  it('round-trips atomically, leaving no temp file', () => {
    const { file, path } = fresh();
    let s = file.load().state;
    for (let i = 0; i < 5; i++) s = recordOutcome(s, { pnlPct: -2, at: i }, { enabled: true }).state;
    file.save(s);
    expect(file.load()).toEqual({ state: s, source: 'file' });
    expect(readdirSync(join(path, '..'))).toEqual(['trend_auto_tune.json']);
    expect(file.remove()).toBe(true);
    expect(file.load().source).toBe('defaults');
  });

  it.each([
    ['bad JSON', '{"version": 1,'],
    ['schema-invalid', JSON.stringify({ version: 1, params: { fastBars: 'x' } })],
    [
      'out of bounds',
      JSON.stringify({
        version: 1,
        params: { fastBars: 40, slowBars: 20, entryZ: 9 },
        outcomes: [],
        seen: 0,
        adjustments: 0,
        updatedAt: 1,
      }),
    ],
  ])('%s: defaults plus a warning, the bad file kept aside, never a throw', (_n, text) => {
    const { file, path } = fresh();
    file.save(file.load().state);
    writeFileSync(path, text);
    const r = file.load();
    expect(r.source).toBe('corrupt');
    expect(r.warning).toMatch(/kept as .*corrupt-1700000000000/);
    expect(r.state.params).toEqual(TREND_DEFAULTS);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.corrupt-1700000000000`)).toBe(true);
  });
});
