import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The Make targets that need no running Bosun: the compose wrappers say clearly that docker is absent and fail,
 * `grafana-import` posts the dashboard to the Grafana HTTP API (a fake Grafana on loopback records it).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const make = (args: string[], env: Record<string, string> = {}) =>
  run('make', ['-s', ...args], { cwd: ROOT, env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8' }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
const hasMake = existsSync('/usr/bin/make');
const dockerPresent = ['/usr/bin/docker', '/bin/docker'].some((p) => existsSync(p));

describe.skipIf(!hasMake || dockerPresent)('compose targets without docker', () => {
  it.each(['up-core', 'up-obs', 'down', 'down-all', 'grafana-restart'])(
    'make %s says docker is absent and fails',
    async (t) => {
      const r = await make([t]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`docker is not installed: 'make ${t}' drives compose.yaml with docker compose`);
    },
  );
});

describe.skipIf(!hasMake)('make grafana-import', () => {
  const received: Array<{
    url: string;
    auth: string;
    body: { dashboard: { uid: string; id: unknown }; overwrite: boolean };
  }> = [];
  let url: string;
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => {
      received.push({ url: `${req.method} ${req.url}`, auth: req.headers.authorization ?? '', body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","uid":"bosun-command-center"}');
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts the dashboard to /api/dashboards/db with overwrite and basic auth', async () => {
    const path = 'ops/observability/grafana/dashboards/command_center.json';
    const r = await make(['grafana-import', `path=${path}`, `GRAFANA_URL=${url}`, 'GRAFANA_PASSWORD=s3cret']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"status":"success"');
    const doc = JSON.parse(readFileSync(resolve(ROOT, path), 'utf8'));
    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe('POST /api/dashboards/db');
    expect(received[0]?.auth).toBe(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
    expect(received[0]?.body).toEqual({ dashboard: { ...doc, id: null }, overwrite: true });
  });

  it('without path= is a usage error (exit 2 from the recipe)', async () => {
    const r = await make(['grafana-import']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('usage: make grafana-import path=');
  });
});

describe.skipIf(!hasMake)('make executor-down', () => {
  const seen: Array<{ line: string; headers: IncomingMessage['headers']; body: string }> = [];
  const engine = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => {
      seen.push({ line: `${req.method} ${req.url}`, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"executor":"stopped"}');
    });
  });
  beforeAll(() => new Promise<void>((r) => engine.listen(0, '127.0.0.1', r)));
  afterAll(() => new Promise<void>((r) => engine.close(() => r())));

  it('POSTs /executor/stop on the engine listener with the token, actor and an Idempotency-Key', async () => {
    const a = engine.address();
    const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    const r = await make(['executor-down', `ENGINE_URL=${url}`], {
      OPS_API_TOKEN: 'tok-0123456789abcdef',
      USER: 'mia',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('{"executor":"stopped"}');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.line).toBe('POST /executor/stop');
    expect(seen[0]?.headers).toMatchObject({ 'x-ops-token': 'tok-0123456789abcdef', 'x-ops-actor': 'mia' });
    expect(seen[0]?.headers['idempotency-key']).toMatch(/^make-\d+-\d+$/);
  });
});

/**
 * Every target that wraps a curl fails when the request fails: a recipe ending in `; echo` used to exit with
 * echo's 0, so a refused kill looked like a done one to a script or a runbook step.
 */
describe.skipIf(!hasMake)('make targets that wrap curl exit non-zero when the request fails', () => {
  const failing = createServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":"unavailable"}');
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    const a = failing.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => failing.close(() => r())));

  const targets = (base: string): Array<[string, string[]]> => [
    ['order', ['order', 'ORDER_SYMBOL=BTCUSDT.BINANCE', 'ORDER_SIDE=BUY', 'ORDER_QUOTE=25', `ENGINE_URL=${base}`]],
    ['status', ['status', `OPS_URL=${base}`]],
    ['kill', ['kill', `OPS_URL=${base}`]],
    ['resume', ['resume', `OPS_URL=${base}`]],
    ['reconcile', ['reconcile', `ENGINE_URL=${base}`]],
    ['weights', ['weights', 'STABLE=0.7', 'CANARY=0.3', `OPS_URL=${base}`]],
    ['executor-down', ['executor-down', `ENGINE_URL=${base}`]],
    [
      'grafana-import',
      ['grafana-import', 'path=ops/observability/grafana/dashboards/command_center.json', `GRAFANA_URL=${base}`],
    ],
    ['prom-reload', ['prom-reload', `PROM_URL=${base}`]],
  ];

  it.each(targets('URL').map(([t]) => t))('make %s fails on an HTTP 503 answer', async (t) => {
    const args = targets(url).find(([name]) => name === t)?.[1] ?? [];
    const r = await make(args, { OPS_API_TOKEN: 'tok-0123456789abcdef' });
    expect(r.code).not.toBe(0);
  });

  it.each(['status', 'kill', 'reconcile'])('make %s fails when nothing listens', async (t) => {
    // Port 9 (discard) on loopback: nothing listens in the test environment, so curl cannot connect.
    const args = targets('http://127.0.0.1:9').find(([name]) => name === t)?.[1] ?? [];
    const r = await make(args, { OPS_API_TOKEN: 'tok-0123456789abcdef' });
    expect(r.code).not.toBe(0);
  });
});
