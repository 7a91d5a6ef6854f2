import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../test/http/support/fakes.js';
import { tokenMatches } from './auth.js';
import { buildServer } from './build-server.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

const kill = (headers: Record<string, string>) => ({
  method: 'POST' as const,
  url: '/kill',
  headers: { 'content-type': 'application/json', ...headers },
  payload: '{"enabled": false}',
});

describe('tokenMatches', () => {
  const d = (s: string) => createHash('sha256').update(s).digest();
  it('matches only the exact token, whatever the lengths', () => {
    expect(tokenMatches('abc', d('abc'), true)).toBe(true);
    expect(tokenMatches('abd', d('abc'), true)).toBe(false);
    expect(tokenMatches('abc'.repeat(100), d('abc'), true)).toBe(false);
    expect(tokenMatches('', d('abc'), true)).toBe(false);
  });

  it('never matches when no token is configured', () => {
    expect(tokenMatches('', d(''), false)).toBe(false);
  });
});

describe('X-Ops-Token on mutating routes', () => {
  it('answers 401 for a missing or wrong token, counts it, changes nothing and audits nothing', async () => {
    const deps = fakeDeps();
    const app = await buildServer(deps, 'ops');
    apps.push(app);
    const missing = await app.inject(kill({}));
    const wrong = await app.inject(kill({ 'x-ops-token': `${TOKEN}x` }));
    const empty = await app.inject(kill({ 'x-ops-token': '' }));
    for (const res of [missing, wrong, empty]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
    expect(missing.json().error.message).toBe('missing X-Ops-Token header');
    expect(wrong.json().error.message).toBe('invalid X-Ops-Token');
    expect(deps.runtime.commands).toHaveLength(0);
    expect(deps.audit.records).toHaveLength(0);
    expect((await deps.metrics.authFailures.get()).values[0]?.value).toBe(3);
  });

  it('checks the token before reading the body: an unauthenticated bad body is still a 401', async () => {
    const deps = fakeDeps();
    const app = await buildServer(deps, 'ops');
    apps.push(app);
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(res.statusCode).toBe(401);
  });

  it('refuses every mutating request when no token is configured (fail closed)', async () => {
    const deps = fakeDeps({ opsToken: '' });
    const app = await buildServer(deps, 'ops');
    apps.push(app);
    expect((await app.inject(kill({ 'x-ops-token': '' }))).statusCode).toBe(401);
    expect((await app.inject(kill({ 'x-ops-token': 'anything' }))).statusCode).toBe(401);
  });

  it('leaves read-only routes open', async () => {
    const deps = fakeDeps();
    const app = await buildServer(deps, 'ops');
    apps.push(app);
    for (const url of ['/status', '/readyz', '/healthz', '/metrics', '/audit'])
      expect((await app.inject({ url })).statusCode).toBe(200);
  });

  it('records X-Ops-Actor as the call-sign, printable and at most 64 characters, default unknown', async () => {
    const deps = fakeDeps();
    const app = await buildServer(deps, 'ops');
    apps.push(app);
    await app.inject(kill({ 'x-ops-token': TOKEN, 'x-ops-actor': 'alice' }));
    await app.inject(kill({ 'x-ops-token': TOKEN, 'x-ops-actor': 'é'.repeat(3) + 'b'.repeat(100) }));
    await app.inject(kill({ 'x-ops-token': TOKEN }));
    expect(deps.audit.records.map((r) => r.actor)).toEqual(['alice', 'b'.repeat(64), 'unknown']);
    expect(deps.runtime.commands.map((c) => c.actor)).toEqual(['alice', 'b'.repeat(64), 'unknown']);
  });
});
