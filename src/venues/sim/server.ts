/**
 * The HTTP server (node:http: exact control over raw bodies, HTML error pages, hangs and dropped sockets).
 * One port serves every dialect by path — `/api/…`, `/fapi/…` (Binance), `/0/…` (Kraken) — and the control
 * API under `/__sim/`. Venue requests are counted, pass through the fault book, and only then reach the
 * dialect; `accept_then_502` lets the dialect do its work and replaces the answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultBook, FaultInfo, FaultTarget, Venue } from './faults.js';
import { htmlPage, type SimRequest, type SimResponse, STATUS_TEXT } from './http-types.js';
import type { RequestLog } from './request-log.js';

/** Per-request services a dialect may use. */
export interface DialectContext {
  /** Whether a stop order in this request must be silently dropped (consumes a `drop_stops` hit). */
  dropStop(): boolean;
  /** The venue's auth clock: wall time plus the clock-skew fault. */
  authNow(): number;
}

export interface VenueDialect {
  readonly venue: Venue;
  handles(path: string): boolean;
  handle(req: SimRequest, ctx: DialectContext): SimResponse;
  /** The venue's wording of a terminal fault (429, 418, venue error). */
  renderFault(f: FaultInfo, req: SimRequest): SimResponse;
}

export interface ServerDeps {
  dialects: readonly VenueDialect[];
  control(req: SimRequest): Promise<SimResponse> | SimResponse;
  faults: FaultBook;
  log: RequestLog;
  /** Runs before every venue request (brings the market up to the sim clock). */
  beforeVenue(): void;
  /** A venue request arrived (benchmark probe, sim `probe.request`): called before faults and handling. */
  onRequest?: ((venue: Venue, req: SimRequest) => void) | undefined;
  /**
   * Makes every change so far durable (a persistent simulator); awaited before any venue or control answer. A
   * failure answers 503: the client cannot know whether its request took effect, which is the truth.
   */
  persist?(): Promise<void>;
}

const MAX_BODY = 1 << 20;

export class SimServer {
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: ServerDeps) {
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        if (!res.headersSent) send(res, { status: 500, body: { error: { code: 'internal', message: String(e) } } });
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  /** The node:http server, for the WebSocket upgrade handler (ws/stream-hub.ts). */
  get http(): Server {
    return this.server;
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection, hung requests included. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === undefined) {
      send(res, { status: 413, body: { error: { code: 'body_too_large', message: `body over ${MAX_BODY} bytes` } } });
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const sreq: SimRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: q < 0 ? url : url.slice(0, q),
      rawQuery: q < 0 ? '' : url.slice(q + 1),
      rawBody: raw,
      headers: req.headers,
      ip: req.socket.remoteAddress ?? 'unknown',
    };
    if (sreq.path === '/__sim' || sreq.path.startsWith('/__sim/')) {
      const answer = await this.deps.control(sreq);
      send(res, (await this.persisted()) ? answer : htmlPage(503, STATUS_TEXT[503] ?? 'Service Unavailable'));
      return;
    }
    const dialect = this.deps.dialects.find((d) => d.handles(sreq.path));
    if (dialect === undefined) {
      send(res, htmlPage(404, 'Not Found'));
      return;
    }
    await this.serveVenue(dialect, sreq, res);
  }

  private async serveVenue(d: VenueDialect, req: SimRequest, res: ServerResponse): Promise<void> {
    const { faults, log } = this.deps;
    const target: FaultTarget = { venue: d.venue, method: req.method, path: req.path };
    const rec = log.arrive(d.venue, req.method, req.path);
    this.deps.onRequest?.(d.venue, req);
    const latency = faults.latencyMs(target);
    if (latency > 0) await this.sleep(latency);
    const f = faults.terminal(target);
    if (f !== undefined) {
      if (f.spec.kind === 'hang') {
        log.done(rec, 'hang', f.id);
        return; // never answered; the client times out, close() drops the socket
      }
      if (f.spec.kind === 'disconnect') {
        log.done(rec, 'disconnect', f.id);
        res.socket?.destroy();
        return;
      }
      const answer = renderTerminal(d, f, req);
      log.done(rec, answer.status, f.id);
      send(res, answer);
      return;
    }
    this.deps.beforeVenue();
    const ctx: DialectContext = {
      dropStop: () => faults.dropStop(target),
      authNow: () => Date.now() + faults.skewMs(d.venue),
    };
    let answer = d.handle(req, ctx);
    if (!(await this.persisted())) answer = htmlPage(503, STATUS_TEXT[503] ?? 'Service Unavailable');
    else if (answer.status < 400 && faults.acceptThen502(target))
      answer = htmlPage(502, STATUS_TEXT[502] ?? 'Bad Gateway');
    log.done(rec, answer.status);
    send(res, answer);
  }

  /** Whether the state is durable (always, for a simulator that keeps nothing). */
  private async persisted(): Promise<boolean> {
    if (this.deps.persist === undefined) return true;
    try {
      await this.deps.persist();
      return true;
    } catch {
      return false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

function renderTerminal(d: VenueDialect, f: FaultInfo, req: SimRequest): SimResponse {
  const s = f.spec;
  if (s.kind === 'http_5xx') return htmlPage(s.status, STATUS_TEXT[s.status] ?? 'Server Error');
  if (s.kind === 'garbage_200')
    return { status: 200, contentType: 'text/html; charset=utf-8', body: '<html><body>OK</body></html>' };
  return d.renderFault(f, req);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: SimResponse): void {
  const isText = typeof r.body === 'string';
  const payload = isText ? (r.body as string) : JSON.stringify(r.body);
  res.writeHead(r.status, {
    'content-type': r.contentType ?? (isText ? 'text/plain; charset=utf-8' : 'application/json;charset=UTF-8'),
    'content-length': Buffer.byteLength(payload),
    ...r.headers,
  });
  res.end(payload);
}
