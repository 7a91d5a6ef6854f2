import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../domain/errors.js';
import { createCommitGuard } from './commit-guard.js';
import { createJournalStore, type JournalEntry } from './journal.store.js';
import type { JsonlMirror } from './jsonl-mirror.js';
import { openStore, type Store } from './store.js';

const dirs: string[] = [];
const opened: Store[] = [];
const roots: RootDatabase[] = [];

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-journal-'));
  dirs.push(dir);
  return dir;
}

async function openAt(dir: string, now = () => 1_700_000_000_000): Promise<Store> {
  const store = await openStore({ dir: join(dir, 'db'), logsDir: join(dir, 'logs'), now });
  opened.push(store);
  return store;
}

function jsonl(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await Promise.all(roots.splice(0).map((r) => r.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A journal over a bare LMDB database (no store around it), so a test can write "another process's" keys. */
function bareJournal(durability: 'flushed' | 'committed') {
  const root = open({ path: join(freshDir(), 'db'), maxDbs: 4 });
  roots.push(root);
  const db = root.openDB<JournalEntry, number>({ name: 'journal' });
  const fatal: unknown[] = [];
  const journal = createJournalStore({
    db,
    guard: createCommitGuard({ durability, onFatal: (e) => fatal.push(e) }),
    now: () => 1,
  });
  return { db, journal, fatal };
}

describe('journal', () => {
  it('numbers entries 1, 2, 3 and continues after close and reopen', async () => {
    const dir = freshDir();
    const a = await openAt(dir);
    expect(a.journal.lastSeq()).toBe(0);
    for (let i = 1; i <= 3; i++) expect(await a.journal.append({ type: 'cmd.kill', i })).toEqual({ seq: i });
    await a.close();

    const b = await openAt(dir);
    expect(b.journal.lastSeq()).toBe(3);
    expect(await b.journal.append({ type: 'cmd.resume' })).toEqual({ seq: 4 });
    expect([...b.journal.readFrom(1)].map((e) => [e.seq, e.type])).toEqual([
      [1, 'cmd.kill'],
      [2, 'cmd.kill'],
      [3, 'cmd.kill'],
      [4, 'cmd.resume'],
    ]);
    expect([...b.journal.readFrom(3)].map((e) => e.seq)).toEqual([3, 4]);
  });

  it('batches concurrent appends of one event turn into one commit with distinct contiguous seqs', async () => {
    const store = await openAt(freshDir());
    await store.journal.append({ type: 'warmup' });
    const before = store.stats().lastTxnId;
    const acks = await Promise.all(Array.from({ length: 100 }, (_, i) => store.journal.append({ type: 'fill', i })));
    expect(store.stats().lastTxnId - before).toBe(1);
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect(store.journal.lastSeq()).toBe(101);
    const entries = [...store.journal.readFrom(2)];
    expect(entries.map((e) => e.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('commits with the other writes issued in the same event turn, and not with those of a later turn', async () => {
    const store = await openAt(freshDir());
    await store.journal.append({ type: 'warmup' });
    const before = store.stats().lastTxnId;
    await Promise.all([
      store.journal.append({ type: 'fill', n: 1 }),
      store.kv.put('k', 1),
      store.journal.append({ type: 'fill', n: 2 }),
    ]);
    expect(store.stats().lastTxnId - before).toBe(1);
    const first = store.journal.append({ type: 'fill', n: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    const second = store.journal.append({ type: 'fill', n: 4 });
    expect(await Promise.all([first, second])).toEqual([{ seq: 4 }, { seq: 5 }]);
    expect([...store.journal.readFrom(1)].map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stores a timestamp from the injected clock and keeps the JSON fields', async () => {
    const store = await openAt(freshDir(), () => 42);
    await store.journal.append({ type: 'order.intent', clientOrderId: 'b-1', qty: 0.5, at: new Date(0) });
    const [entry] = [...store.journal.readFrom(1)];
    expect(entry).toEqual({
      seq: 1,
      ts: 42,
      type: 'order.intent',
      clientOrderId: 'b-1',
      qty: 0.5,
      at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('refuses an entry without a type or with its own seq, without spending a sequence number', async () => {
    const store = await openAt(freshDir());
    await expect(store.journal.append({ type: '' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(store.journal.append({ type: 'x', seq: 9 } as never)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const cyclic: Record<string, unknown> = { type: 'x' };
    cyclic.self = cyclic;
    await expect(store.journal.append(cyclic as { type: string })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(store.journal.append({ type: 'x', ts: 1e20 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await store.journal.append({ type: 'ok' })).toEqual({ seq: 1 });
  });

  it('mirrors every entry to events.jsonl and order entries to orders.jsonl', async () => {
    const dir = freshDir();
    const store = await openAt(dir);
    await Promise.all([
      store.journal.append({ type: 'order.intent', clientOrderId: 'k-1' }),
      store.journal.append({ type: 'health.degrade', actor: 'venue:binance' }),
      store.journal.append({ type: 'order.fill', clientOrderId: 'k-1' }),
    ]);
    await store.mirrorsIdle();
    const events = jsonl(join(dir, 'logs', 'events.jsonl'));
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0]).toMatchObject({ time: '2023-11-14T22:13:20.000Z', type: 'order.intent' });
    expect(jsonl(join(dir, 'logs', 'orders.jsonl')).map((e) => e.type)).toEqual(['order.intent', 'order.fill']);
  });

  it('writes a mirror line only after its commit has resolved', async () => {
    const dir = freshDir();
    const root = open({ path: join(dir, 'db'), maxDbs: 4 });
    roots.push(root);
    const db = root.openDB<JournalEntry, number>({ name: 'journal' });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The commit is held back by a gate: nothing may reach the mirror while it is pending.
    const gated = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
        return (callback: () => unknown) => gate.then(() => target.transaction(callback));
      },
    });
    const lines: number[] = [];
    const mirror = { write: (seq: number) => lines.push(seq), recoverTail: () => 0 } as unknown as JsonlMirror;
    const journal = createJournalStore({
      db: gated,
      guard: createCommitGuard({ durability: 'flushed' }),
      now: () => 1,
      mirrors: { events: mirror, orders: mirror },
    });
    const acked = journal.append({ type: 'order.intent' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([]);
    expect(journal.lastSeq()).toBe(0);
    release();
    expect(await acked).toEqual({ seq: 1 });
    expect(lines).toEqual([1, 1]);
    expect(db.get(1)?.type).toBe('order.intent');
  });

  it('rebuilds lost or damaged mirrors from LMDB with exportJsonl', async () => {
    const dir = freshDir();
    const store = await openAt(dir);
    for (let i = 0; i < 20; i++) await store.journal.append({ type: i % 4 === 0 ? 'order.intent' : 'tick.x', i });
    await store.audit.append({ actor: 'ops', action: 'kill', result: 'ok' });
    await store.mirrorsIdle();
    const eventsPath = join(dir, 'logs', 'events.jsonl');
    const original = readFileSync(eventsPath, 'utf8');
    writeFileSync(eventsPath, 'garbage\n');
    rmSync(join(dir, 'logs', 'orders.jsonl'));

    expect(await store.exportJsonl()).toEqual({ events: 20, orders: 5, audit: 1 });
    expect(readFileSync(eventsPath, 'utf8')).toBe(original);
    expect(jsonl(join(dir, 'logs', 'orders.jsonl')).map((e) => e.i)).toEqual([0, 4, 8, 12, 16]);

    // Appends that commit while the files are swapped appear exactly once.
    const during = Promise.all([store.journal.append({ type: 'a' }), store.exportJsonl()]);
    await during;
    await store.journal.append({ type: 'b' });
    await store.mirrorsIdle();
    expect(jsonl(eventsPath).map((e) => e.seq)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
  });

  it('repairs a torn last mirror line and catches up the mirror tail at open', async () => {
    const dir = freshDir();
    const a = await openAt(dir);
    for (let i = 0; i < 10; i++) await a.journal.append({ type: 'order.ack', i });
    await a.close();
    const eventsPath = join(dir, 'logs', 'events.jsonl');
    // Simulate a crash mid-append: four whole lines survive, then half of the fifth.
    const text = readFileSync(eventsPath, 'utf8');
    const cut = text.split('\n').slice(0, 4).join('\n').length + 1;
    truncateSync(eventsPath, cut + 10);
    appendFileSync(join(dir, 'logs', 'orders.jsonl'), '{"seq":1');

    const b = await openAt(dir);
    await b.mirrorsIdle();
    expect(jsonl(eventsPath).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(jsonl(join(dir, 'logs', 'orders.jsonl')).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('writes nothing at or after a taken sequence number in the same commit', async () => {
    const { db, journal, fatal } = bareJournal('flushed');
    await db.put(3, { seq: 3, ts: 1, type: 'other-process' });
    const acks = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => journal.append({ type: 'mine', i })));
    expect(acks.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    for (const a of acks.slice(2))
      expect(a.status === 'rejected' && isAppError(a.reason) && a.reason.code).toBe('STORE_FAILED');
    expect(fatal).toHaveLength(1);
    expect([...db.getRange({ start: 1 })].map(({ key, value }) => [key, value.type])).toEqual([
      [1, 'mine'],
      [2, 'mine'],
      [3, 'other-process'],
    ]);
  });

  it('fails fatally when a sequence number is already taken (a second writer)', async () => {
    const { db, journal, fatal } = bareJournal('committed');
    await db.put(2, { seq: 2, ts: 1, type: 'other-process' });
    expect(await journal.append({ type: 'mine' })).toEqual({ seq: 1 });
    const err = await journal.append({ type: 'mine' }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('STORE_FAILED');
    expect(fatal).toHaveLength(1);
    expect(db.get(2)?.type).toBe('other-process');
  });
});
