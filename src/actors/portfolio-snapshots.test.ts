import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/index.js';
import { createLedgerBook } from './ledger-book.js';
import { createPortfolioSnapshots, snapshotForBackup } from './portfolio-snapshots.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

async function open(dir: string): Promise<Store> {
  const s = await openStore({ dir });
  stores.push(s);
  return s;
}

/** Bosun's snapshots over one store, with a clock that moves and a ledger that changes between writes. */
function snapshots(store: Store, path: string) {
  let t = 1_700_000_000_000;
  const book = createLedgerBook(store.kv, ['binance']);
  return {
    book,
    snaps: createPortfolioSnapshots({ path, store, book, prices: () => ({}), now: () => (t += 1_000) }),
  };
}

describe('snapshotForBackup (POST /backup)', () => {
  it('archives a portfolio.json the LMDB copy knows as Bosun’s own, though snapshots are written after it', async () => {
    const state = tmp('bosun-snap-state-');
    const live = join(state, 'portfolio.json');
    const store = await open(join(state, 'db'));
    const { book, snaps } = snapshots(store, live);
    await book.baseline('binance', { USDT: 1_000 }, 1);
    await snaps.write();

    const backup = join(tmp('bosun-snap-backup-'), 'db-1');
    const r = await snapshotForBackup(store, live, backup);
    expect(r.portfolio).toBe(join(backup, 'portfolio.json'));
    // The periodic snapshot goes on while the CLI tars the copy: two more files, the ledger moved in between.
    await book.baseline('binance', { USDT: 990 }, 2);
    await snaps.write();
    await snaps.write();

    // A restore of the pair: the copy's LMDB beside the archived file reads it as Bosun's (no re-baseline).
    const restored = tmp('bosun-snap-restored-');
    copyFileSync(r.path, join(restored, 'data.mdb'));
    copyFileSync(r.portfolio as string, join(restored, 'portfolio.json'));
    const copy = await open(restored);
    expect(snapshots(copy, join(restored, 'portfolio.json')).snaps.read().status).toBe('ours');

    // The live file as it is now, beside the same copy, is not (what archiving the live file used to restore).
    const other = tmp('bosun-snap-live-');
    copyFileSync(r.path, join(other, 'data.mdb'));
    copyFileSync(live, join(other, 'portfolio.json'));
    const withLive = await open(other);
    expect(snapshots(withLive, join(other, 'portfolio.json')).snaps.read().status).toBe('operator_edited');
  });

  it('answers no portfolio when none was written yet, and still copies LMDB', async () => {
    const state = tmp('bosun-snap-empty-');
    const store = await open(join(state, 'db'));
    await store.kv.put('marker', 1);
    const r = await snapshotForBackup(store, join(state, 'portfolio.json'), join(tmp('bosun-snap-b-'), 'db'));
    expect(r.portfolio).toBeNull();
    expect(r.bytes).toBeGreaterThan(0);
  });
});
