import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyFill, emptyLedger, type Ledger, valueLedger, withBaseline } from '../domain/portfolio.js';
import {
  buildPortfolioDocument,
  createPortfolioFile,
  type PortfolioDocument,
  portfolioHash,
} from './portfolio-file.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-portfolio-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const PRICES = { BTC: 60_000 };

function sampleLedger(): Ledger {
  const l = withBaseline(withBaseline(emptyLedger(), 'binance', { USDT: 1000 }), 'kraken', { ZUSD: 500, BTC: 0.1 });
  return applyFill(l, {
    venue: 'binance',
    tradeId: 't1',
    clientOrderId: 'bosun-1',
    symbol: 'BTCUSDT',
    base: 'BTC',
    quote: 'USDT',
    side: 'buy',
    amount: 0.005,
    price: 60_000,
    cost: 300,
    fee: { cost: 0.3, currency: 'USDT' },
    at: 1_700_000_000_000,
  });
}

function sampleDoc(seq = 42): PortfolioDocument {
  const l = sampleLedger();
  return buildPortfolioDocument(l, valueLedger(l, PRICES), seq, 1_700_000_001_000);
}

/** A file codec whose "last written" hash is whatever this test last wrote through it. */
function codec(path: string) {
  let last: string | undefined;
  const file = createPortfolioFile(path, () => last);
  return {
    file,
    write(doc: PortfolioDocument) {
      file.write(doc);
      last = doc.hash;
    },
  };
}

describe('buildPortfolioDocument', () => {
  it('hashes the content, so any change to it changes the hash', () => {
    const doc = sampleDoc();
    expect(doc.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(portfolioHash({ ...doc })).toBe(doc.hash);
    expect(sampleDoc(43).hash).not.toBe(doc.hash);
  });

  it('is a copy: later changes to the live ledger do not reach the document', () => {
    const l = sampleLedger();
    const doc = buildPortfolioDocument(l, valueLedger(l, PRICES), 1, 2);
    l.venues.binance!.balances.USDT = 0;
    expect(doc.ledger.venues.binance?.balances.USDT).toBe(1000 - 300 - 0.3);
    expect(portfolioHash({ ...doc })).toBe(doc.hash);
  });
});

describe('portfolio file', () => {
  it('reads back what it wrote as ours, equal to the document', () => {
    const path = join(freshDir(), 'state', 'portfolio.json');
    const c = codec(path);
    const doc = sampleDoc();
    c.write(doc);
    const r = c.file.read();
    expect(r.status).toBe('ours');
    expect(r.doc).toEqual(doc);
  });

  it('treats a hand-edited balance with a stale hash as an operator adjustment carrying the new balances', () => {
    const path = join(freshDir(), 'portfolio.json');
    const c = codec(path);
    c.write(sampleDoc());
    const edited = JSON.parse(readFileSync(path, 'utf8')) as PortfolioDocument;
    edited.ledger.venues.kraken!.balances.BTC = 0.25;
    writeFileSync(path, JSON.stringify(edited, null, 2));
    const r = c.file.read();
    expect(r.status).toBe('operator_edited');
    expect(r.detail).toMatch(/hash/);
    expect(r.doc?.ledger.venues.kraken?.balances).toEqual({ ZUSD: 500, BTC: 0.25 });
  });

  it('treats a self-consistent file Bosun did not write last as an operator adjustment', () => {
    const path = join(freshDir(), 'portfolio.json');
    const c = codec(path);
    c.write(sampleDoc(1));
    // An operator (or a restore from backup) puts another valid document in place, hash and all.
    writeFileSync(path, JSON.stringify(sampleDoc(2)));
    expect(c.file.read()).toMatchObject({
      status: 'operator_edited',
      detail: 'content differs from what Bosun last wrote',
    });
    // With no record of any write (fresh state), the same file is an adjustment too.
    expect(createPortfolioFile(path, () => undefined).read().status).toBe('operator_edited');
  });

  it('counts a reformatted but otherwise unchanged file as ours (the hash covers content, not layout)', () => {
    const path = join(freshDir(), 'portfolio.json');
    const c = codec(path);
    const doc = sampleDoc();
    c.write(doc);
    writeFileSync(path, JSON.stringify(doc));
    expect(c.file.read().status).toBe('ours');
  });

  it('reports a missing file as missing', () => {
    const r = createPortfolioFile(join(freshDir(), 'nope.json'), () => 'x').read();
    expect(r).toEqual({ doc: null, status: 'missing' });
  });

  it('reports an unparsable or invalid file as corrupt with the reason, without throwing', () => {
    const path = join(freshDir(), 'portfolio.json');
    const file = createPortfolioFile(path, () => undefined);
    writeFileSync(path, '{"version":1,"ledger":');
    expect(file.read()).toMatchObject({ doc: null, status: 'corrupt', detail: expect.stringMatching(/^not JSON/) });

    const doc = JSON.parse(JSON.stringify(sampleDoc())) as PortfolioDocument;
    (doc.ledger.venues.binance!.balances as Record<string, unknown>).USDT = 'lots';
    writeFileSync(path, JSON.stringify(doc));
    const r = file.read();
    expect(r.status).toBe('corrupt');
    expect(r.detail).toContain('ledger.venues.binance.balances.USDT');

    writeFileSync(path, JSON.stringify({ ...sampleDoc(), version: 2 }));
    expect(file.read()).toMatchObject({ status: 'corrupt', detail: expect.stringContaining('version') });
  });

  it('reports a path it cannot read (a folder) as corrupt rather than throwing', () => {
    const dir = freshDir();
    expect(createPortfolioFile(dir, () => undefined).read()).toMatchObject({ doc: null, status: 'corrupt' });
  });

  it('treats a throwing hash source like no record of a write', () => {
    const path = join(freshDir(), 'portfolio.json');
    createPortfolioFile(path, () => undefined).write(sampleDoc());
    const r = createPortfolioFile(path, () => {
      throw new Error('kv closed');
    }).read();
    expect(r.status).toBe('operator_edited');
  });
});

describe('portfolio file writes atomically', () => {
  it('replaces the file whole and leaves no temp files behind', () => {
    const dir = freshDir();
    const path = join(dir, 'portfolio.json');
    const c = codec(path);
    for (let seq = 1; seq <= 5; seq++) c.write(sampleDoc(seq));
    expect(readdirSync(dir)).toEqual(['portfolio.json']);
    expect(c.file.read()).toMatchObject({ status: 'ours', doc: { journalSeq: 5 } });
  });

  it('keeps the previous file intact and removes the temp file when a write fails before the rename', () => {
    const dir = freshDir();
    const path = join(dir, 'portfolio.json');
    let last: string | undefined;
    const good = createPortfolioFile(path, () => last);
    const first = sampleDoc(1);
    good.write(first);
    last = first.hash;
    const before = readFileSync(path, 'utf8');

    const failingFsync = {
      ...fs,
      fsyncSync: () => {
        throw new Error('EIO: fsync failed');
      },
    };
    const flaky = createPortfolioFile(path, () => last, failingFsync);
    expect(() => flaky.write(sampleDoc(2))).toThrow(/EIO/);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['portfolio.json']);
    expect(good.read()).toMatchObject({ status: 'ours', doc: { journalSeq: 1 } });
  });

  it('fsyncs the data before it renames it into place', () => {
    const dir = freshDir();
    const calls: string[] = [];
    const io = {
      ...fs,
      fsyncSync: (fd: number) => {
        calls.push('fsync');
        fs.fsyncSync(fd);
      },
      renameSync: (a: fs.PathLike, b: fs.PathLike) => {
        calls.push('rename');
        fs.renameSync(a, b);
      },
    };
    createPortfolioFile(join(dir, 'portfolio.json'), () => undefined, io).write(sampleDoc());
    // data fsync, rename, then the folder's fsync
    expect(calls).toEqual(['fsync', 'rename', 'fsync']);
  });
});
