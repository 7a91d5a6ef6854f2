import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import type { ActorNode, InspectEvent } from '../../supervisor/runtime-port.js';
import { inspectorHtml } from '../inspector-page.js';
import type { RouteContext, ZodApp } from '../route-context.js';
import { ActorParams } from './actors.routes.js';

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_EVENT_FLUSH_MS = 250;
/** Event lines kept per flush; the rest are counted in `dropped` (a tick storm must not flood the browser). */
export const MAX_EVENTS_PER_FLUSH = 100;

const StreamQuery = z.strictObject({
  events: z
    .enum(['transitions', 'all'])
    .optional()
    .describe('transitions (default): health/liveness/restart changes; all: every actor event (XState inspection)'),
});

/**
 * `GET /inspect/stream` (engine): Server-Sent Events over the runtime's inspection hub (DESIGN §9). `tree` on
 * connect and on topology changes, `nodes` (changed nodes only, coalesced by the hub, at most every 250 ms),
 * `event` batches (health/liveness/restart transitions; with `?events=all` every actor event too, through XState
 * inspection, which costs actor throughput), and a comment line as heartbeat. Inspection is attached only while a stream is open: the hub
 * attaches on the first listener and detaches when the last stream closes (client gone, or the listener closes).
 * A client that cannot keep up is not buffered without bound: while the socket needs draining, updates are
 * skipped and a full tree is sent once it drains.
 *
 * `GET /inspector`: the page that reads the stream; `GET /inspect/machines` the statecharts it draws,
 * `GET /inspect/actors/:id/history` an actor's health edges of the last hour and its last transitions, `GET /inspect/assets/elk.js` the
 * layout library (elkjs's browser bundle, from node_modules: the page works offline and fetches nothing elsewhere).
 */
export function inspectRoutes(app: ZodApp, ctx: RouteContext): void {
  const { runtime } = ctx.deps;
  const heartbeatMs = ctx.deps.inspector?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const eventFlushMs = ctx.deps.inspector?.eventFlushMs ?? DEFAULT_EVENT_FLUSH_MS;
  const open = new Set<() => void>();

  app.addHook('onClose', async () => {
    for (const end of [...open]) end();
  });

  app.get('/inspector', async (request, reply) => {
    const html = inspectorHtml({
      opsPort: ctx.deps.inspector?.opsPort?.(),
      protocol: request.protocol,
      hostname: request.hostname,
    });
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', html.csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    return html.body;
  });

  app.get('/inspect/machines', async () => {
    if (!runtime.machines) throw new AppError('NOT_READY', 'this runtime does not describe its machines');
    return runtime.machines();
  });

  app.get('/inspect/actors/:id/history', { schema: { params: ActorParams } }, async (request) => {
    const { id } = request.params;
    if (!runtime.actor(id)) throw new AppError('NOT_FOUND', `no actor '${id}'`);
    return { id, health: runtime.healthHistory?.(id) ?? [], transitions: runtime.transitions?.(id) ?? [] };
  });

  let elk: string | undefined;
  app.get('/inspect/assets/elk.js', async (_request, reply) => {
    elk ??= readFileSync(createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js'), 'utf8');
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=86400')
      .header('x-content-type-options', 'nosniff');
    return elk;
  });

  app.get('/inspect/stream', { schema: { querystring: StreamQuery } }, async (request, reply) => {
    // Before hijacking: a runtime that is not started answers 503 JSON through the error handler.
    runtime.tree();
    reply.hijack();
    const res: ServerResponse = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    let closed = false;
    let stale = false;
    let events: InspectEvent[] = [];
    let dropped = 0;

    const send = (name: string, data: unknown): void => {
      if (closed) return;
      res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const backedUp = (): boolean => {
      if (res.writableNeedDrain) stale = true;
      return stale;
    };

    const detach = runtime.inspect(
      {
        tree(root: ActorNode) {
          if (backedUp()) return;
          send('tree', root);
        },
        nodes(nodes: ActorNode[]) {
          if (backedUp()) return;
          send('nodes', nodes);
        },
        event(e) {
          if (events.length >= MAX_EVENTS_PER_FLUSH) {
            events.shift();
            dropped += 1;
          }
          events.push(e);
        },
      },
      { events: request.query.events === 'all' },
    );

    const flushEvents = setInterval(() => {
      if (events.length === 0 || backedUp()) return;
      send('event', { events, dropped });
      events = [];
      dropped = 0;
    }, eventFlushMs);
    const heartbeat = setInterval(() => {
      if (!closed && !res.writableNeedDrain) res.write(`: hb ${Date.now()}\n\n`);
    }, heartbeatMs);
    flushEvents.unref();
    heartbeat.unref();

    const onDrain = (): void => {
      if (!stale || closed) return;
      stale = false;
      send('tree', runtime.tree());
    };
    res.on('drain', onDrain);

    const end = (): void => {
      if (closed) return;
      closed = true;
      open.delete(end);
      clearInterval(flushEvents);
      clearInterval(heartbeat);
      res.off('drain', onDrain);
      detach();
      if (!res.writableEnded) res.end();
    };
    open.add(end);
    // The response's close, not the request's: IncomingMessage closes once its (empty) body is read.
    res.on('close', end);
    res.on('error', end);
    ctx.log.debug({ streams: open.size }, 'inspector stream opened');
  });
}
