import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/http/build-server.js';
import { createLogger } from '../../src/logging/logger.js';
import type { ActorNode } from '../../src/supervisor/runtime-port.js';
import { type RealStack, startRealStack } from './support/real-stack.js';

/**
 * `GET /inspect/stream` through a real listener on loopback over the real runtime and LMDB: the full tree on
 * connect, a coalesced node update after a health change, and XState inspection detached once the client leaves.
 */
interface SseMessage {
  event: string;
  data: unknown;
}

class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  private readonly abort = new AbortController();
  private buffer = '';
  done: Promise<void> = Promise.resolve();
  status = 0;
  contentType = '';

  async open(url: string): Promise<void> {
    const r = await fetch(url, { signal: this.abort.signal });
    this.status = r.status;
    this.contentType = r.headers.get('content-type') ?? '';
    const reader = r.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    this.done = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          this.feed(decoder.decode(value, { stream: true }));
        }
      } catch {
        // aborted by close()
      }
    })();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    for (let i = this.buffer.indexOf('\n\n'); i >= 0; i = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line);
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.messages.push({ event, data: JSON.parse(data.join('\n')) });
    }
  }

  of(event: string): unknown[] {
    return this.messages.filter((m) => m.event === event).map((m) => m.data);
  }

  close(): void {
    this.abort.abort();
  }
}

describe('GET /inspect/stream (real listener)', () => {
  let stack: RealStack;
  let engine: FastifyInstance;
  let base: string;
  const { log } = createLogger({ level: 'silent', stdout: false });

  beforeAll(async () => {
    stack = await startRealStack();
    // A second engine listener over the same runtime, with a fast heartbeat so the comment line shows quickly.
    engine = await buildServer(
      {
        runtime: stack.runtime,
        metrics: stack.metrics,
        log,
        opsToken: stack.token,
        idempotency: stack.store.idempotency,
        audit: stack.store.audit,
        inspector: { heartbeatMs: 50, eventFlushMs: 50 },
      },
      'engine',
    );
    await engine.listen({ host: '127.0.0.1', port: 0 });
    const addr = engine.server.address();
    base = typeof addr === 'object' && addr ? `http://127.0.0.1:${addr.port}` : '';
  });

  afterAll(async () => {
    await engine?.close();
    await stack?.close();
  });

  it('sends the full tree on connect, node updates after a health change, and detaches when the client leaves', async () => {
    expect(stack.runtime.inspection()).toEqual({ attached: false, listeners: 0 });
    const client = new SseClient();
    await client.open(`${base}/inspect/stream`);
    expect(client.status).toBe(200);
    expect(client.contentType).toMatch(/^text\/event-stream/);

    await expect.poll(() => client.of('tree').length).toBeGreaterThan(0);
    const tree = client.of('tree')[0] as ActorNode;
    expect(tree.id).toBe('root');
    const ids: string[] = [];
    const walk = (n: ActorNode) => {
      ids.push(n.id);
      for (const c of n.children) walk(c);
    };
    walk(tree);
    expect(ids).toEqual(expect.arrayContaining(['core', 'governance', 'heartbeat']));
    // The default stream diffs the tree: XState inspection stays off (it costs actor throughput).
    expect(stack.runtime.inspection()).toEqual({ attached: false, listeners: 1 });

    // A global halt turns the governance actor's health HALTED: it arrives as a coalesced `nodes` update.
    await stack.runtime.setTrading({
      scope: 'global',
      state: 'HALTED',
      reason: 'stream test',
      actor: 'test',
      command: 'kill',
    });
    await expect
      .poll(() =>
        client
          .of('nodes')
          .flat()
          .some((n) => (n as ActorNode).id === 'governance' && (n as ActorNode).health === 'HALTED'),
      )
      .toBe(true);
    const update = client
      .of('nodes')
      .flat()
      .find((n) => (n as ActorNode).id === 'governance') as ActorNode;
    expect(update.children).toEqual([]);
    // Only changed nodes are sent: the halt rolls up to core and root, the heartbeat did not change.
    expect(
      client
        .of('nodes')
        .flat()
        .map((n) => (n as ActorNode).id),
    ).not.toContain('heartbeat');
    // The transition is in the event log, with its reason.
    await expect
      .poll(() =>
        client
          .of('event')
          .flatMap((b) => (b as { events: Array<{ type: string; to?: string; detail?: string }> }).events)
          .find((e) => e.type === 'health.HALTED' && e.to === 'governance'),
      )
      .toMatchObject({ detail: expect.stringContaining('stream test') });
    await expect.poll(() => client.comments.some((c) => c.startsWith(': hb '))).toBe(true);

    client.close();
    await client.done;
    await expect.poll(() => stack.runtime.inspection()).toEqual({ attached: false, listeners: 0 });
  });

  it('attaches XState inspection only while a client asks for every actor event', async () => {
    const all = new SseClient();
    await all.open(`${base}/inspect/stream?events=all`);
    await expect.poll(() => all.of('tree').length).toBe(1);
    expect(stack.runtime.inspection()).toEqual({ attached: true, listeners: 1 });
    // An actor event as it happens: a command to the governance actor.
    await stack.runtime.setTrading({
      scope: 'global',
      state: 'ACTIVE',
      reason: 'resume',
      actor: 'test',
      command: 'resume',
    });
    await expect
      .poll(() =>
        all
          .of('event')
          .flatMap((b) => (b as { events: Array<{ type: string; to?: string }> }).events)
          .some((e) => e.to === 'governance' && !e.type.startsWith('health.')),
      )
      .toBe(true);
    all.close();
    await all.done;
    await expect.poll(() => stack.runtime.inspection()).toEqual({ attached: false, listeners: 0 });
  });

  it('refuses an unknown events mode with a 400 naming it', async () => {
    const r = await fetch(`${base}/inspect/stream?events=everything`);
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.message).toMatch(/events/);
    expect(stack.runtime.inspection().listeners).toBe(0);
  });

  it('closes promptly with a stream open (forceCloseConnections) and detaches', async () => {
    const other = await buildServer(
      {
        runtime: stack.runtime,
        metrics: stack.metrics,
        log,
        opsToken: stack.token,
        idempotency: stack.store.idempotency,
        audit: stack.store.audit,
      },
      'engine',
    );
    await other.listen({ host: '127.0.0.1', port: 0 });
    const addr = other.server.address();
    const client = new SseClient();
    await client.open(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/inspect/stream`);
    await expect.poll(() => client.of('tree').length).toBe(1);
    expect(stack.runtime.inspection().listeners).toBe(1);
    // Resolves at all (a stream held open would keep close() pending until the test times out).
    await other.close();
    await client.done;
    expect(stack.runtime.inspection()).toEqual({ attached: false, listeners: 0 });
  });

  it('serves the inspector page from its own origin only, with the CSP pinning its script', async () => {
    const r = await fetch(`${base}/inspector`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self';");
    const html = await r.text();
    expect(html).toContain("new EventSource('/inspect/stream'");
    // Nothing external: no http(s) URL in any src or href; the layout library comes from this listener.
    expect(html).not.toMatch(/(src|href)\s*=\s*["']https?:/i);
    expect(html).toContain('<script src="/inspect/assets/elk.js"></script>');
    const elk = await fetch(`${base}/inspect/assets/elk.js`);
    expect(elk.status).toBe(200);
    expect(elk.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await elk.text()).toContain('ELK');
  });

  it("describes every live machine for the statecharts, and keeps each actor's health edges and transitions", async () => {
    const m = (await (await fetch(`${base}/inspect/machines`)).json()) as {
      machines: Record<string, { id: string; root: { id: string; type: string; states: { key: string }[] } }>;
      actors: Record<string, string>;
    };
    const gov = m.machines[m.actors.governance as string];
    expect(gov?.root).toMatchObject({ id: 'governance', type: 'parallel' });
    expect(gov?.root.states.map((s) => s.key).sort()).toEqual(['health', 'trading']);
    // Every actor the tree shows running has its machine described.
    const running: string[] = [];
    const walk = (n: ActorNode): void => {
      if (n.liveness === 'running' || n.liveness === 'root') running.push(n.id);
      n.children.forEach(walk);
    };
    walk(stack.runtime.tree());
    expect(running.filter((id) => !m.actors[id])).toEqual([]);

    const h = await fetch(`${base}/inspect/actors/governance/history`);
    expect(h.status).toBe(200);
    const body = (await h.json()) as { health: unknown[]; transitions: Array<{ event: string; from: unknown }> };
    expect(body.health.length).toBeGreaterThan(0);
    // Recorded from boot, before this client connected: the actor's start is the oldest.
    expect(body.transitions[0]).toMatchObject({ event: 'start', from: null });
    expect((await fetch(`${base}/inspect/actors/conn:nowhere/history`)).status).toBe(404);
  });

  it('lets loopback origins preflight /kill on ops, and no other origin', async () => {
    const ok = await stack.ops.inject({
      method: 'OPTIONS',
      url: '/kill',
      headers: {
        origin: 'http://127.0.0.1:8003',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-ops-token, idempotency-key, content-type',
      },
    });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8003');
    expect(String(ok.headers['access-control-allow-headers'])).toMatch(/x-ops-token/);
    expect(String(ok.headers['access-control-allow-headers'])).toMatch(/idempotency-key/);

    const evil = await stack.ops.inject({
      method: 'OPTIONS',
      url: '/kill',
      headers: { origin: 'http://evil.example:8003', 'access-control-request-method': 'POST' },
    });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    expect(evil.statusCode).toBeGreaterThanOrEqual(400);

    // The engine listener gets no CORS at all.
    const engineCors = await stack.engine.inject({
      method: 'OPTIONS',
      url: '/actors',
      headers: { origin: 'http://127.0.0.1:8002', 'access-control-request-method': 'POST' },
    });
    expect(engineCors.headers['access-control-allow-origin']).toBeUndefined();

    // A real (non-preflight) cross-origin kill still needs the token.
    const noToken = await stack.ops.inject({
      method: 'POST',
      url: '/kill',
      headers: { origin: 'http://127.0.0.1:8003', 'content-type': 'application/json' },
      payload: { enabled: false },
    });
    expect(noToken.statusCode).toBe(401);
    expect(noToken.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8003');
  });
});
