import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../test/http/support/fakes.js';
import { buildServer } from './build-server.js';
import { createHostAllowList, hostName } from './host-guard.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function ops(allowedHosts?: string[]) {
  const deps = fakeDeps({ allowedHosts });
  const app = await buildServer(deps, 'ops');
  apps.push(app);
  return { app, deps };
}

const kill = { method: 'POST' as const, url: '/kill', payload: '{"enabled": false}' };

describe('hostName and the allow-list', () => {
  it('strips ports and brackets and refuses malformed authorities', () => {
    expect(hostName('LOCALHOST:8002')).toBe('localhost');
    expect(hostName('[::1]:8002')).toBe('::1');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName('evil.example:80x')).toBeUndefined();
    expect(hostName('a b')).toBeUndefined();
    expect(hostName('')).toBeUndefined();
  });

  it('allows loopback and the configured names, never a wildcard bind address', () => {
    const ok = createHostAllowList(['0.0.0.0', 'Bosun.Internal', '::1']);
    for (const h of ['localhost', '127.0.0.1', '127.9.9.9', '::1', 'bosun.internal']) expect(ok(h)).toBe(true);
    for (const h of ['0.0.0.0', 'attacker.example', '10.0.0.1', 'localhost.attacker.example'])
      expect(ok(h)).toBe(false);
  });
});

describe('Host and cross-site checks on a listener', () => {
  it('refuses a foreign Host on an open read (DNS rebinding) in the documented error format', async () => {
    const { app } = await ops();
    const r = await app.inject({ url: '/audit', headers: { host: 'attacker.example' } });
    expect(r.statusCode).toBe(403);
    expect(r.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringMatching(/attacker\.example/) } });
    expect((await app.inject({ url: '/audit', headers: { host: '127.0.0.1:8002' } })).statusCode).toBe(200);
  });

  it('answers a proxy name listed in ALLOWED_HOSTS', async () => {
    const { app } = await ops(['127.0.0.1', 'ops.example.com']);
    expect((await app.inject({ url: '/audit', headers: { host: 'ops.example.com' } })).statusCode).toBe(200);
  });

  it('refuses a form POST whose Origin is another site, and changes nothing', async () => {
    const { app, deps } = await ops();
    const r = await app.inject({
      ...kill,
      headers: {
        'x-ops-token': TOKEN,
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://attacker.example',
      },
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.message).toMatch(/Origin/);
    expect(deps.runtime.governance().global.state).toBe('ACTIVE');
  });

  it.each([[{ 'sec-fetch-site': 'cross-site' }], [{ origin: 'null' }], [{ origin: 'file://' }]])(
    'refuses a mutating request marked %o',
    async (headers) => {
      const { app } = await ops();
      const r = await app.inject({ ...kill, headers: { 'x-ops-token': TOKEN, ...headers } });
      expect(r.statusCode).toBe(403);
    },
  );

  it("keeps the runbook's header-less curl and loopback pages working", async () => {
    const { app } = await ops();
    const curl = await app.inject({
      ...kill,
      headers: { 'x-ops-token': TOKEN, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(curl.statusCode).toBe(200);
    const page = await app.inject({
      ...kill,
      payload: '{"enabled": true}',
      headers: {
        'x-ops-token': TOKEN,
        'content-type': 'application/json',
        origin: 'http://127.0.0.1:8003',
        'sec-fetch-site': 'same-site',
      },
    });
    expect(page.statusCode).toBe(200);
  });
});
