import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_TTL_MS, requestFingerprint } from './idempotency.store.js';
import { openStore, type Store } from './store.js';

const dirs: string[] = [];
const opened: Store[] = [];

/** A store over a fresh directory with a hand-driven clock. */
async function fixture(dir = mkdtempSync(join(tmpdir(), 'bosun-idem-'))) {
  dirs.push(dir);
  const clock = { t: 1_700_000_000_000 };
  const store = await openStore({ dir, now: () => clock.t });
  opened.push(store);
  return { store, idem: store.idempotency, clock, dir };
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const KILL = requestFingerprint({ method: 'POST', path: '/kill', body: { reason: 'drill' } });
const RESUME = requestFingerprint({ method: 'POST', path: '/kill', body: { reason: 'other' } });

describe('idempotency', () => {
  it('replays the stored status and body for the same key and request', async () => {
    const { idem } = await fixture();
    expect(idem.begin('k1', KILL, 'ops')).toEqual({ kind: 'new' });
    await idem.complete('k1', 200, { ok: true, state: 'HALTED' });
    expect(idem.begin('k1', KILL, 'ops')).toEqual({ kind: 'replay', status: 200, body: { ok: true, state: 'HALTED' } });
    expect(idem.begin('k1', KILL, 'ops')).toEqual({ kind: 'replay', status: 200, body: { ok: true, state: 'HALTED' } });
  });

  it('replays stored failures too (the first answer stands, as Stripe does)', async () => {
    const { idem } = await fixture();
    idem.begin('k-err', KILL, 'ops');
    await idem.complete('k-err', 503, { error: { code: 'NOT_READY', message: 'booting' } });
    expect(idem.begin('k-err', KILL, 'ops')).toMatchObject({ kind: 'replay', status: 503 });
  });

  it('answers mismatch for the same key with another request or another scope', async () => {
    const { idem } = await fixture();
    idem.begin('k2', KILL, 'ops');
    expect(idem.begin('k2', RESUME, 'ops')).toEqual({ kind: 'mismatch' });
    await idem.complete('k2', 200, { ok: true });
    expect(idem.begin('k2', RESUME, 'ops')).toEqual({ kind: 'mismatch' });
    expect(idem.begin('k2', KILL, 'engine')).toEqual({ kind: 'mismatch' });
  });

  it('answers in_flight while the first request runs, then replays once it completes', async () => {
    const { idem } = await fixture();
    expect(idem.begin('k3', KILL, 'ops')).toEqual({ kind: 'new' });
    expect(idem.begin('k3', KILL, 'ops')).toEqual({ kind: 'in_flight' });
    const done = idem.complete('k3', 201, { id: 7 });
    // Until the answer is durable a duplicate still sees in_flight, never a second `new`.
    expect(idem.begin('k3', KILL, 'ops')).toEqual({ kind: 'in_flight' });
    await done;
    expect(idem.begin('k3', KILL, 'ops')).toEqual({ kind: 'replay', status: 201, body: { id: 7 } });
  });

  it('gives exactly one of 50 concurrent identical requests the claim', async () => {
    const { idem } = await fixture();
    const request = async () => {
      await Promise.resolve();
      return idem.begin('same', KILL, 'ops');
    };
    const results = await Promise.all(Array.from({ length: 50 }, request));
    expect(results.filter((r) => r.kind === 'new')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in_flight')).toHaveLength(49);
    await idem.complete('same', 200, { ok: true });
    const again = await Promise.all(Array.from({ length: 50 }, request));
    expect(again.every((r) => r.kind === 'replay')).toBe(true);
  });

  it('frees the key when the request is abandoned before it completes', async () => {
    const { idem } = await fixture();
    idem.begin('k4', KILL, 'ops');
    idem.abandon('k4');
    expect(idem.begin('k4', RESUME, 'ops')).toEqual({ kind: 'new' });
  });

  it('expires records after 24 h and prunes them', async () => {
    const { idem, clock } = await fixture();
    idem.begin('old', KILL, 'ops');
    await idem.complete('old', 200, { n: 1 });
    clock.t += IDEMPOTENCY_TTL_MS / 2;
    idem.begin('young', KILL, 'ops');
    await idem.complete('young', 200, { n: 2 });

    clock.t += IDEMPOTENCY_TTL_MS / 2 - 1;
    expect(idem.begin('old', KILL, 'ops')).toMatchObject({ kind: 'replay' });
    clock.t += 1;
    expect(idem.get('old')).toBeUndefined();
    expect(await idem.prune()).toBe(1);
    expect(idem.get('young')).toMatchObject({ status: 200, body: { n: 2 } });
    // An expired key is a new request, even with another body.
    expect(idem.begin('old', RESUME, 'ops')).toEqual({ kind: 'new' });
  });

  it('keeps completed answers across a restart', async () => {
    const first = await fixture();
    first.idem.begin('durable', KILL, 'ops');
    await first.idem.complete('durable', 200, { ok: true });
    await first.store.close();
    const second = await fixture(first.dir);
    expect(second.idem.begin('durable', KILL, 'ops')).toEqual({ kind: 'replay', status: 200, body: { ok: true } });
  });

  it('refuses empty or over-long keys and completing an unclaimed key', async () => {
    const { idem } = await fixture();
    expect(() => idem.begin('', KILL, 'ops')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => idem.begin('x'.repeat(256), KILL, 'ops')).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    await expect(idem.complete('never-begun', 200, {})).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('fingerprints requests independently of key order', () => {
    expect(requestFingerprint({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      requestFingerprint({ b: { d: 'x', c: [1, 2] }, a: 1 }),
    );
    expect(requestFingerprint({ a: 1 })).not.toBe(requestFingerprint({ a: 2 }));
  });
});
