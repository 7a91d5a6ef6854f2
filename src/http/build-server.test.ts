import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../test/http/support/fakes.js';
import { createLogger } from '../logging/logger.js';
import { buildServer, type ListenerName } from './build-server.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

describe('buildServer', () => {
  it('serves the DESIGN §2 routes on each listener and no others', async () => {
    const deps = fakeDeps();
    const table: Record<'ops' | 'engine', Array<[string, string]>> = {
      ops: [
        ['GET', '/readyz'],
        ['GET', '/healthz'],
        ['GET', '/status'],
        ['GET', '/metrics'],
        ['POST', '/kill'],
        ['GET', '/audit'],
      ],
      engine: [
        ['GET', '/readyz'],
        ['GET', '/healthz'],
        ['GET', '/health'],
        ['GET', '/status'],
        ['GET', '/metrics'],
        // The inspector page sends its kill to its own origin (CSP connect-src 'self').
        ['POST', '/kill'],
        ['GET', '/actors'],
        ['GET', '/actors/:id'],
        ['POST', '/actors/:id/events'],
        ['GET', '/inspect/stream'],
        ['GET', '/inspector'],
      ],
    };
    for (const listener of ['ops', 'engine'] as const) {
      const app = await buildServer(deps, listener);
      apps.push(app);
      const other = listener === 'ops' ? table.engine : table.ops;
      for (const [method, url] of table[listener]) expect(app.hasRoute({ method, url }), `${method} ${url}`).toBe(true);
      for (const [method, url] of other.filter(([m, u]) => !table[listener].some(([m2, u2]) => m === m2 && u === u2)))
        expect(app.hasRoute({ method, url }), `${listener} ${method} ${url}`).toBe(false);
    }
  });

  it('serves the universe, screener and situations listeners and the scanner/executor control routes', async () => {
    const deps = fakeDeps();
    const table: Array<[ListenerName, string, string, boolean]> = [
      ['universe', 'GET', '/health', true],
      ['universe', 'GET', '/universe', true],
      ['universe', 'POST', '/kill', false],
      ['screener', 'GET', '/health', true],
      ['screener', 'GET', '/scan', true],
      ['screener', 'GET', '/universe', false],
      ['situations', 'GET', '/health', true],
      ['situations', 'GET', '/situations', true],
      ['situations', 'GET', '/scan', false],
      ['engine', 'POST', '/scanner/rescan', true],
      ['engine', 'POST', '/executor/stop', true],
      ['engine', 'POST', '/executor/start', true],
      ['ops', 'POST', '/scanner/rescan', false],
    ];
    for (const listener of ['universe', 'screener', 'situations', 'engine', 'ops'] as const) {
      const app = await buildServer(deps, listener);
      apps.push(app);
      for (const [l, method, url, has] of table)
        if (l === listener) expect(app.hasRoute({ method, url }), `${l} ${method} ${url}`).toBe(has);
    }
  });

  it('refuses an unknown listener name', async () => {
    await expect(buildServer(fakeDeps(), 'admin' as ListenerName)).rejects.toThrow(/unknown listener/);
  });

  it('logs requests at debug without tokens, signatures or bodies', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ level: 'debug', stream }).log;
    const deps = fakeDeps({ log });
    const app = await buildServer(deps, 'ops');
    apps.push(app);
    await app.inject({
      method: 'POST',
      url: '/kill',
      headers: {
        'x-ops-token': TOKEN,
        'x-events-signature': 'sha256=deadbeef',
        'content-type': 'application/json',
      },
      payload: '{"enabled": false, "reason": "body-marker"}',
    });
    await app.inject({ method: 'POST', url: '/kill', headers: { 'x-ops-token': 'wrong-token-value' } });
    const text = lines.join('');
    expect(text).toMatch(/"path":"\/kill"/);
    expect(text).toMatch(/"status":200/);
    expect(text).toMatch(/"status":401/);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('wrong-token-value');
    expect(text).not.toContain('deadbeef');
    expect(text).not.toContain('body-marker');
  });

  // Without forceCloseConnections close() waits out the idle keep-alive socket (Node's keepAliveTimeout, 72 s under
  // Fastify), past this test's timeout. How long a close takes is measured by bench/server-close.bench.ts.
  it('closes with keep-alive connections open (forceCloseConnections)', async () => {
    const app = await buildServer(fakeDeps(), 'ops');
    expect(app.initialConfig.forceCloseConnections).toBe(true);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const res = await fetch(`http://127.0.0.1:${port}/status`, { headers: { connection: 'keep-alive' } });
    expect(res.status).toBe(200);
    expect(app.server.keepAliveTimeout).toBeGreaterThan(30_000);
    await app.close();
    expect(app.server.listening).toBe(false);
  });
});
