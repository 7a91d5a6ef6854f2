import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJsonlMirror, jsonlLine } from './jsonl-mirror.js';

const dirs: string[] = [];
function freshPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-mirror-'));
  dirs.push(dir);
  return join(dir, 'events.jsonl');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const line = (seq: number, extra = '') => jsonlLine({ seq, ts: 0, note: extra } as { ts: number });

describe('jsonl mirror', () => {
  it('appends queued lines in order', async () => {
    const path = freshPath();
    const mirror = createJsonlMirror(path, () => {});
    for (let seq = 1; seq <= 50; seq++) mirror.write(seq, line(seq));
    await mirror.idle();
    const seqs = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('formats a record queued as a lazy line when it writes it, once for every mirror sharing it', async () => {
    const events = createJsonlMirror(freshPath(), () => {});
    const orders = createJsonlMirror(freshPath(), () => {});
    const record = { seq: 1, ts: 0, type: 'order.intent' };
    const shared: { record: { ts: number }; text?: string } = { record };
    events.write(1, shared);
    orders.write(1, shared);
    expect(shared.text).toBeUndefined();
    await Promise.all([events.idle(), orders.idle()]);
    expect(shared.text).toBe(jsonlLine(record));
    expect(readFileSync(events.path, 'utf8')).toBe(jsonlLine(record));
    expect(readFileSync(orders.path, 'utf8')).toBe(jsonlLine(record));
  });

  it('gives each line the ISO time of its own ts', () => {
    const lines = [0, 0, 1, Number.NaN, 1].map((ts) => JSON.parse(jsonlLine({ seq: 1, ts } as { ts: number })).time);
    expect(lines).toEqual([
      '1970-01-01T00:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
      '1970-01-01T00:00:00.001Z',
      null,
      '1970-01-01T00:00:00.001Z',
    ]);
  });

  it('cuts a torn last line, counting bytes of multi-byte text correctly', () => {
    const path = freshPath();
    writeFileSync(path, `${line(1, 'héllo ✓')}${line(2, 'ünïcode')}{"seq":3,"note":"tor`);
    expect(createJsonlMirror(path, () => {}).recoverTail()).toBe(2);
    expect(readFileSync(path, 'utf8')).toBe(`${line(1, 'héllo ✓')}${line(2, 'ünïcode')}`);
  });

  it('finds the last seq behind a line longer than the tail window', () => {
    const path = freshPath();
    writeFileSync(path, `${line(1)}${line(7, 'x'.repeat(200_000))}`);
    expect(createJsonlMirror(path, () => {}).recoverTail()).toBe(7);
    writeFileSync(path, `{"seq":1,"note":"${'y'.repeat(100_000)}`);
    expect(createJsonlMirror(path, () => {}).recoverTail()).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('reports an unreadable tail as unknown instead of guessing', () => {
    const path = freshPath();
    writeFileSync(path, 'not json\n');
    const errors: unknown[] = [];
    expect(createJsonlMirror(path, (e) => errors.push(e)).recoverTail()).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('replaces the file while paused and drops held lines the new file covers', async () => {
    const path = freshPath();
    const mirror = createJsonlMirror(path, () => {});
    mirror.write(1, line(1, 'old'));
    await mirror.pause();
    mirror.write(2, line(2));
    mirror.write(3, line(3));
    expect(mirror.replace(2, [line(1), line(2)])).toBe(2);
    mirror.resume();
    await mirror.idle();
    expect(readFileSync(path, 'utf8')).toBe(`${line(1)}${line(2)}${line(3)}`);
  });

  it('reports append failures to the hook and keeps going', async () => {
    const path = join(freshPath(), 'missing-dir', 'x.jsonl');
    const errors: unknown[] = [];
    const mirror = createJsonlMirror(path, (e) => errors.push(e));
    mirror.write(1, line(1));
    await mirror.idle();
    expect(errors).toHaveLength(1);
  });
});
