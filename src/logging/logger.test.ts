import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, RotatingFile } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('redacts secrets by key name at any depth, in child loggers too', () => {
    const { lines, stream } = capture();
    const { log } = createLogger({ stream });
    const child = log.child({ actor: 'conn:binance' });
    child.info(
      {
        apiKey: 'AK-123',
        secret: 'S-456',
        req: { headers: { 'x-ops-token': 'tok', 'x-events-signature': 'sha256=abc', accept: 'json' } },
        deep: { nested: { more: { BINANCE_API_SECRET: 'x', token: 'y', keep: 'visible' } } },
        list: [{ password: 'p' }],
      },
      'hello',
    );
    const line = JSON.stringify(lines[0]);
    for (const secret of ['AK-123', 'S-456', '"tok"', 'sha256=abc', '"x"', '"y"', '"p"'])
      expect(line).not.toContain(secret);
    expect(lines[0]).toMatchObject({ actor: 'conn:binance', msg: 'hello' });
    expect((lines[0] as { deep: { nested: { more: { keep: string; token: string } } } }).deep.nested.more).toEqual({
      BINANCE_API_SECRET: REDACTED,
      token: REDACTED,
      keep: 'visible',
    });
    expect((lines[0] as { req: { headers: Record<string, string> } }).req.headers.accept).toBe('json');
  });

  it('writes state/logs/app.log and rotates it by size and by day, keeping a bounded number of files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-log-'));
    let day = '2026-11-23';
    const f = new RotatingFile(join(dir, 'app.log'), 200, 3, () => day);
    for (let i = 0; i < 10; i++) f.write(`${'x'.repeat(90)}\n`);
    const files = readdirSync(dir).sort();
    expect(files).toContain('app.log');
    expect(files.filter((n) => n.startsWith('app.log.2026-11-23.')).length).toBe(3);
    day = '2026-11-24';
    f.write('next day\n');
    expect(readFileSync(join(dir, 'app.log'), 'utf8')).toBe('next day\n');
    expect(readdirSync(dir).length).toBeLessThanOrEqual(4);
  });

  it('logs JSON lines to app.log through the root logger', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bosun-log-'));
    const root = createLogger({ logDir: dir, stdout: false });
    root.log.child({ actor: 'x' }).warn({ token: 'zzz' }, 'to file');
    root.flushSync();
    const line = JSON.parse(readFileSync(join(dir, 'app.log'), 'utf8').trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ actor: 'x', msg: 'to file', token: REDACTED });
  });
});
