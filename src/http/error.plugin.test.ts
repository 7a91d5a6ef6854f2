import { connect } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeDeps, TOKEN } from '../../test/http/support/fakes.js';
import { AppError } from '../domain/errors.js';
import { buildServer } from './build-server.js';
import { onClientError, toHttpError } from './error.plugin.js';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function build(listener: 'ops' | 'engine', deps = fakeDeps()) {
  const app = await buildServer(deps, listener);
  apps.push(app);
  return { app, deps };
}

describe('toHttpError', () => {
  it('maps every catalogue code to its status and keeps the message', () => {
    expect(toHttpError(new AppError('NOT_FOUND', 'no actor'))).toEqual({
      status: 404,
      code: 'NOT_FOUND',
      message: 'no actor',
    });
    expect(toHttpError(new AppError('IDEMPOTENCY_MISMATCH', 'x')).status).toBe(422);
    expect(toHttpError(new AppError('ACTOR_UNAVAILABLE', 'x')).status).toBe(503);
  });

  it('maps Fastify body errors to 413 and 415 and unknown errors to a generic 500', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(toHttpError(tooLarge)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    const media = Object.assign(new Error('Unsupported'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 });
    expect(toHttpError(media)).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    const secret = new TypeError('cannot read x of undefined at /secret/path');
    expect(toHttpError(secret)).toEqual({
      status: 500,
      code: 'INTERNAL',
      message: expect.not.stringMatching(/secret/),
    });
  });

  it('maps an unknown 4xx onto the catalogue', () => {
    const e = Object.assign(new Error('odd'), { statusCode: 431 });
    expect(toHttpError(e)).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });
});

describe('error responses', () => {
  it('answers an unknown path with a 404 JSON body', async () => {
    const { app } = await build('ops');
    const res = await app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /nope' } });
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const { app } = await build('ops');
    const res = await app.inject({ method: 'GET', url: '/kill' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.json().error.code).toBe('METHOD_NOT_ALLOWED');
    const del = await app.inject({ method: 'DELETE', url: '/status/' });
    expect(del.statusCode).toBe(405);
    expect(del.headers.allow).toBe('GET, HEAD');
  });

  it('answers an undecodable URL with 400 in the same JSON shape', async () => {
    const { app } = await build('engine');
    const res = await app.inject({ url: '/actors/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('BAD_REQUEST');
  });

  it('answers a query validation failure with 400 naming the field', async () => {
    const { app } = await build('ops');
    const res = await app.inject({ url: '/audit?limit=5000' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(res.json().error.message).toMatch(/^querystring\.limit: /);
  });

  it('turns an unexpected runtime failure into a generic 500 INTERNAL and logs it', async () => {
    const deps = fakeDeps();
    deps.runtime.tree = () => {
      throw new TypeError('boom at /internal/detail');
    };
    const { app } = await build('engine', deps);
    const res = await app.inject({ url: '/actors' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('INTERNAL');
    expect(res.body).not.toMatch(/internal\/detail/);
  });

  it('turns NOT_READY from the runtime into 503 with Retry-After', async () => {
    const deps = fakeDeps();
    deps.runtime.governance = () => {
      throw new AppError('NOT_READY', 'governance not started');
    };
    const { app } = await build('ops', deps);
    const res = await app.inject({ url: '/status' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json().error).toEqual({ code: 'NOT_READY', message: 'governance not started' });
  });

  it('records an authenticated command that fails validation in the audit log as an error, once', async () => {
    const { app, deps } = await build('ops');
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { 'x-ops-token': TOKEN, 'x-ops-actor': 'bob', 'content-type': 'application/json' },
      payload: '{"enabled": "no"}',
    });
    expect(res.statusCode).toBe(400);
    expect(deps.audit.records).toHaveLength(1);
    expect(deps.audit.records[0]).toMatchObject({ actor: 'bob', action: 'kill', result: 'error' });
    expect(deps.audit.records[0]?.reason).toMatch(/^VALIDATION_FAILED: body\.enabled/);
  });

  it('still answers with the original error when the audit write of a failure fails', async () => {
    const { app, deps } = await build('ops');
    deps.audit.failAppend = new Error('disk gone');
    const res = await app.inject({
      method: 'POST',
      url: '/kill',
      headers: { 'x-ops-token': TOKEN, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(400);
  });
});

describe('malformed bytes after a complete request on the same connection', () => {
  it('answers the running request first, then refuses the rest: a command never answers 400 and still acts', async () => {
    // A short Content-Length leaves `{}` after a complete POST: llhttp refuses those bytes while the POST's
    // handler is still running. The client must read the handler's answer, not a 400 for a command that acted.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered = () => {};
    const handlerEntered = new Promise<void>((r) => {
      entered = r;
    });
    let refused = () => {};
    const parserRefused = new Promise<void>((r) => {
      refused = r;
    });
    let effects = 0;
    const app = Fastify({
      clientErrorHandler: (err, socket) => {
        onClientError(err, socket);
        refused();
      },
    });
    apps.push(app);
    app.post('/act', async () => {
      entered();
      await gate;
      effects++;
      return { acted: true };
    });
    const port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
    const answer = new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let text = '';
      sock.on('data', (d) => {
        text += String(d);
      });
      sock.on('error', reject);
      sock.on('close', () => resolve(text));
      sock.write('POST /act HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n{}');
    });
    await Promise.all([handlerEntered, parserRefused]);
    release();
    const text = await answer;
    expect(effects).toBe(1);
    const [first, second] = text.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first).toContain('{"acted":true}');
    expect(second).toMatch(/^HTTP\/1\.1 400 /);
    expect(second).toContain('"code":"BAD_REQUEST"');
  });
});
