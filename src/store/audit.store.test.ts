import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_HEAD_KEY, type AuditRecord, auditHash, GENESIS_HASH, verifyAuditChain } from './audit.store.js';
import { openStore, type Store } from './store.js';

const dirs: string[] = [];
const opened: Store[] = [];

async function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-audit-'));
  dirs.push(dir);
  let t = 1_700_000_000_000;
  const reopen = async () => {
    const store = await openStore({ dir: join(dir, 'db'), logsDir: join(dir, 'logs'), now: () => t++ });
    opened.push(store);
    return store;
  };
  return { dir, store: await reopen(), reopen };
}

/** Edits the audit database behind the store's back, as someone with file access could. */
async function tamper(dir: string, edit: (db: ReturnType<typeof openAudit>) => Promise<unknown>) {
  const root = open({ path: join(dir, 'db'), maxDbs: 12 });
  await edit(openAudit(root));
  await root.close();
}
function openAudit(root: ReturnType<typeof open>) {
  return root.openDB<AuditRecord | { seq: number; hash: string }, number | string>({ name: 'audit' });
}

async function appendThree(store: Store) {
  await store.audit.append({ actor: 'alice', action: 'kill', ip: '127.0.0.1', result: 'ok', reason: 'drill' });
  await store.audit.append({
    actor: 'bob',
    action: 'weights.set',
    before: { trend: 0.5 },
    after: { trend: 0.7 },
    result: 'ok',
  });
  await store.audit.append({ actor: 'alice', action: 'resume', result: 'refused', reason: 'depeg active' });
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('audit', () => {
  it('chains each record to the previous one by hash', async () => {
    const { store } = await fixture();
    const first = await store.audit.append({ actor: 'alice', action: 'kill', result: 'ok', requestId: 'r1' });
    const second = await store.audit.append({ actor: 'bob', action: 'resume', result: 'ok', idempotencyKey: 'k' });
    expect(first).toMatchObject({ seq: 1, ts: 1_700_000_000_000, prevHash: GENESIS_HASH });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(auditHash(second)).toBe(second.hash);
    expect(verifyAuditChain(store)).toEqual({ ok: true, count: 2 });
  });

  it('chains concurrent appends in call order and keeps the chain across a restart', async () => {
    const { store, reopen } = await fixture();
    const recs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.audit.append({ actor: `a${i}`, action: 'x', result: 'ok' })),
    );
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await store.close();
    const again = await reopen();
    const next = await again.audit.append({ actor: 'z', action: 'y', result: 'ok' });
    expect(next).toMatchObject({ seq: 21, prevHash: recs[19]?.hash });
    expect(verifyAuditChain(again)).toEqual({ ok: true, count: 21 });
  });

  it('detects a record whose content was changed in LMDB', async () => {
    const { dir, store, reopen } = await fixture();
    await appendThree(store);
    await store.close();
    await tamper(dir, async (db) => {
      const rec = db.get(2) as AuditRecord;
      await db.put(2, { ...rec, after: { trend: 1.0 } });
    });
    expect(verifyAuditChain(await reopen())).toEqual({
      ok: false,
      badSeq: 2,
      reason: 'content does not match its hash',
    });
  });

  it('detects a record changed and re-hashed, because the next record no longer links to it', async () => {
    const { dir, store, reopen } = await fixture();
    await appendThree(store);
    await store.close();
    await tamper(dir, async (db) => {
      const rec = db.get(1) as AuditRecord;
      const forged = { ...rec, actor: 'mallory' };
      await db.put(1, { ...forged, hash: auditHash(forged) });
    });
    expect(verifyAuditChain(await reopen())).toMatchObject({ ok: false, badSeq: 2 });
  });

  it('detects a deleted record in the middle and a deleted tail', async () => {
    const { dir, store, reopen } = await fixture();
    await appendThree(store);
    await store.close();
    await tamper(dir, (db) => db.remove(2));
    expect(verifyAuditChain(await reopen())).toEqual({ ok: false, badSeq: 2, reason: 'record 2 is missing' });

    const other = await fixture();
    await appendThree(other.store);
    await other.store.close();
    await tamper(other.dir, (db) => db.remove(3));
    expect(verifyAuditChain(await other.reopen())).toMatchObject({ ok: false, badSeq: 3 });
  });

  it('detects a tail cut together with its head', async () => {
    const { dir, store, reopen } = await fixture();
    await appendThree(store);
    await store.close();
    await tamper(dir, async (db) => {
      await db.remove(3);
      await db.remove(AUDIT_HEAD_KEY);
    });
    expect(verifyAuditChain(await reopen())).toMatchObject({ ok: false, badSeq: 3 });
  });

  it('lists newest first, filtered by actor, action and time, up to the limit', async () => {
    const { store } = await fixture();
    await appendThree(store);
    const all = store.audit.list({ limit: 10 });
    expect(all.map((r) => r.seq)).toEqual([3, 2, 1]);
    expect(store.audit.list({ limit: 10, actor: 'alice' }).map((r) => r.action)).toEqual(['resume', 'kill']);
    expect(store.audit.list({ limit: 10, action: 'weights.set' }).map((r) => r.seq)).toEqual([2]);
    expect(store.audit.list({ limit: 10, since: 1_700_000_000_001 }).map((r) => r.seq)).toEqual([3, 2]);
    expect(store.audit.list({ limit: 1 }).map((r) => r.seq)).toEqual([3]);
  });

  it('mirrors committed records to audit.jsonl', async () => {
    const { dir, store } = await fixture();
    await appendThree(store);
    await store.mirrorsIdle();
    const lines = readFileSync(join(dir, 'logs', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as AuditRecord);
    expect(parsed.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(parsed[1]).toMatchObject({ actor: 'bob', before: { trend: 0.5 }, after: { trend: 0.7 } });
    expect(parsed[2]?.prevHash).toBe(parsed[1]?.hash);
  });

  it('refuses records without actor, action or result', async () => {
    const { store } = await fixture();
    await expect(store.audit.append({ actor: '', action: 'kill', result: 'ok' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(store.audit.append({ actor: 'a', action: 'kill' } as never)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(verifyAuditChain(store)).toEqual({ ok: true, count: 0 });
  });
});
