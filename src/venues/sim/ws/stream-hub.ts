/**
 * The simulator's WebSocket side: both venues' stream dialects on the same loopback port as REST, by path as
 * ccxt.pro builds them from the venues' URLs (paths kept, see venue-urls.ts):
 * - Binance spot market streams `/ws/<n>`; USDⓈ-M `/market/ws/<n>` and `/public/ws/<n>` (binance-streams.ts);
 * - Binance spot WebSocket API `/ws-api/v3` (the user data stream by `userDataStream.subscribe.signature`);
 * - Binance USDⓈ-M user data stream `/private/ws?listenKey=<key>` (binance-futures-user.ts);
 * - Kraken v2 `/v2`, public channels and, with a GetWebSocketsToken token, `executions` and `balances`.
 * Market data is pushed every `pushMs` (the venues' 1 s update speed by default) and after `sim.advance`; order
 * events come straight from the matching engine. Stream faults (stream-faults.ts) act on live connections.
 *
 * A persistent simulator publishes only what it has committed, as a venue's matching engine does: a message sent
 * while the state in memory is newer than the state file waits, in its connection's order, until a save covering
 * it is on disk. Without that a `kill -9` could leave a client holding a fill the restarted venue never made.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AccountBook } from '../accounts.js';
import type { Venue } from '../faults.js';
import type { Market } from '../market.js';
import type { EngineEvent, MatchingEngine } from '../matching-engine.js';
import { binanceFuturesUserSession } from './binance-futures-user.js';
import type { ListenKeys } from './binance-listen-keys.js';
import { binanceMarketSession, binanceWsApiSession } from './binance-streams.js';
import { krakenSession } from './kraken-streams.js';
import { type StreamFaultInput, StreamFaults, streamFaultSchema } from './stream-faults.js';

/** Time one slice of a market-data push may take before it yields the event loop (ms). */
const PUSH_SLICE_MS = 2;

export interface StreamDeps {
  market: Market;
  engine: MatchingEngine;
  accounts: AccountBook;
  /** Sim time (epoch ms). */
  now: () => number;
  /** Venue auth clock (wall time plus the clock-skew fault). */
  authNow: (venue: Venue) => number;
  /** Kraken WebSockets tokens issued by GetWebSocketsToken (token → apiKey). */
  tokens: Map<string, { apiKey: string; expiresAt: number }>;
  /** Binance USDⓈ-M listenKeys issued by POST /fapi/v1/listenKey. */
  listenKeys: ListenKeys;
}

/** One connection's dialect. `send` drops everything while the venue's stream is silenced. */
export interface Session {
  onMessage(text: string): void;
  /** Pushes market data (every pushMs and after sim.advance). */
  onStep(): void;
  /** Heartbeats where the dialect has them (Kraken: `{"channel":"heartbeat"}` about once a second). */
  onHeartbeat(): void;
  onEngine(e: EngineEvent): void;
}

export interface SessionLink {
  venue: Venue;
  send(msg: unknown): void;
  /** Cuts the connection (protocol violation, as the venue does). */
  kill(code?: number, reason?: string): void;
  /** Incoming text messages in the last second (Binance disconnects past its limit). */
  rate(): number;
}

export interface StreamHubOptions {
  pushMs?: number;
  heartbeatMs?: number;
  /** Server ping frames (Binance: every 20 s; Kraken relies on heartbeats and client pings). */
  pingMs?: number;
  /** Every message handed to a socket (benchmark probe, sim `probe.sent`): called right after the send. */
  onSent?: ((venue: Venue, msg: unknown) => void) | undefined;
  /** A persistent simulator's state file: messages wait until the state they were sent at is durable. */
  durable?: Durability | undefined;
}

export interface Durability {
  /** The version of the state in memory now. */
  version(): number;
  /** The version last made durable. */
  saved(): number;
  /** Resolves once the state in memory at the call is durable. */
  save(): Promise<void>;
}

/** One connection's outgoing side. */
interface Outbox {
  ws: WebSocket;
  venue: Venue;
  /** Messages waiting for the state they were sent at to be durable, in send order. */
  held: { msg: unknown; version: number }[];
  waiting: boolean;
}

interface Conn {
  ws: WebSocket;
  venue: Venue;
  session: Session;
  stamps: number[];
}

export class StreamHub {
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: 1 << 20 });
  private readonly conns = new Set<Conn>();
  readonly faults = new StreamFaults();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Last (status, filled) reported per order: the engine may report one ending twice. */
  private readonly reported = new WeakMap<object, string>();
  private connections = 0;
  /** The push under way (step()): a newer one supersedes its remaining connections. */
  private pushRound = 0;
  /** Messages and pings swallowed by a silence fault (both directions). */
  private swallowed = 0;

  private readonly onSent: StreamHubOptions['onSent'];
  private readonly durable: Durability | undefined;

  constructor(
    private readonly deps: StreamDeps,
    opts: StreamHubOptions = {},
  ) {
    this.onSent = opts.onSent;
    this.durable = opts.durable;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(opts.pushMs ?? 1000, () => this.step());
    every(opts.heartbeatMs ?? 1000, () => this.each((c) => c.session.onHeartbeat()));
    every(opts.pingMs ?? 20_000, () => this.each((c) => !this.faults.active('silence', c.venue) && c.ws.ping()));
    deps.engine.onEvent = (e) => this.onEngine(e);
  }

  /** Serves WebSocket upgrades on the simulator's HTTP server. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  /**
   * Pushes market data now (the timer does it every pushMs; sim.advance calls it after moving time). Connection by
   * connection, yielding the event loop once a slice of PUSH_SLICE_MS is spent: a venue's ticker fan-out does not
   * hold up its order entry, and a push of 1,000 tickers took ~200 ms of this thread, during which a create sent in
   * answer to the first ticker waited (the stream tick→order bench measured the simulator, not Bosun). Each
   * connection still gets its messages in order; a step called while one is under way restarts the round with the
   * newer data (a connection not reached yet gets one push, not two).
   */
  step(): void {
    if (this.conns.size === 0) return;
    this.deps.engine.sync();
    const round = [...this.conns];
    const token = ++this.pushRound;
    const run = (from: number): void => {
      if (token !== this.pushRound) return;
      const start = performance.now();
      for (let i = from; i < round.length; i++) {
        const c = round[i];
        if (c !== undefined && this.conns.has(c)) this.guarded(c, (x) => x.session.onStep());
        if (i + 1 < round.length && performance.now() - start >= PUSH_SLICE_MS) {
          setImmediate(() => run(i + 1));
          return;
        }
      }
    };
    run(0);
  }

  addFault(input: StreamFaultInput): { kind: string; venues: Venue[] } {
    const f = streamFaultSchema.parse(input);
    const venues: Venue[] = f.venue === 'all' ? ['binance', 'kraken'] : [f.venue];
    for (const v of venues) {
      if (f.kind === 'drop') this.dropAll(v);
      else if (f.kind === 'storm') this.faults.storm(v, f.count);
      else this.faults.set(f.kind, v, f.durationMs);
    }
    return { kind: f.kind, venues };
  }

  /** Open connections per venue and connections accepted since start (reconnects show here). */
  stats(): { open: Record<Venue, number>; accepted: number; swallowed: number } {
    const open: Record<Venue, number> = { binance: 0, kraken: 0 };
    for (const c of this.conns) open[c.venue] += 1;
    return { open, accepted: this.connections, swallowed: this.swallowed };
  }

  dropAll(venue?: Venue): void {
    for (const c of [...this.conns]) if (venue === undefined || c.venue === venue) c.ws.terminate();
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.dropAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private each(fn: (c: Conn) => void): void {
    for (const c of this.conns) this.guarded(c, fn);
  }

  /** A session that throws is cut, as the venue drops a connection it cannot serve. */
  private guarded(c: Conn, fn: (c: Conn) => void): void {
    try {
      fn(c);
    } catch {
      c.ws.terminate();
    }
  }

  private uncommitted(): boolean {
    return this.durable !== undefined && this.durable.version() !== this.durable.saved();
  }

  private write(c: Outbox, msg: unknown): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    c.ws.send(JSON.stringify(msg));
    this.onSent?.(c.venue, msg);
  }

  /** Queues a message until a save covering the state it was sent at is on disk; a failed save cuts the connection (the client resubscribes and fills the gap by REST, from the state that is durable). */
  private hold(c: Outbox, msg: unknown): void {
    const d = this.durable;
    if (d === undefined) {
      this.write(c, msg);
      return;
    }
    c.held.push({ msg, version: d.version() });
    if (c.waiting) return;
    c.waiting = true;
    const release = (): void => {
      const saved = d.saved();
      while (c.held.length > 0 && (c.held[0]?.version ?? Number.POSITIVE_INFINITY) <= saved) {
        const next = c.held.shift();
        if (next !== undefined) this.write(c, next.msg);
      }
      if (c.held.length === 0) {
        c.waiting = false;
        return;
      }
      d.save().then(release, fail);
    };
    const fail = (): void => {
      c.held.length = 0;
      c.waiting = false;
      c.ws.terminate();
    };
    d.save().then(release, fail);
  }

  private onEngine(e: EngineEvent): void {
    if (e.kind !== 'trade') {
      const key = `${e.order.status}|${e.order.executedQty}`;
      if (this.reported.get(e.order) === key) return;
      this.reported.set(e.order, key);
    }
    this.each((c) => c.session.onEngine(e));
  }

  private route(
    path: string,
    query: URLSearchParams,
  ): { venue: Venue; make: (link: SessionLink) => Session } | undefined {
    if (/^\/ws(\/\d+)?$/.test(path))
      return { venue: 'binance', make: (l) => binanceMarketSession(this.deps, l, 'spot') };
    if (/^\/(market|public)\/ws(\/\d+)?$/.test(path))
      return { venue: 'binance', make: (l) => binanceMarketSession(this.deps, l, 'perp') };
    if (path === '/private/ws')
      return {
        venue: 'binance',
        make: (l) => binanceFuturesUserSession(this.deps, l, this.deps.listenKeys, query.get('listenKey')),
      };
    if (path === '/ws-api/v3') return { venue: 'binance', make: (l) => binanceWsApiSession(this.deps, l) };
    if (path === '/v2') return { venue: 'kraken', make: (l) => krakenSession(this.deps, l) };
    return undefined;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const [path = '/', search = ''] = (req.url ?? '/').split('?');
    const r = this.route(path, new URLSearchParams(search));
    if (r === undefined || this.faults.active('outage', r.venue)) {
      const status = r === undefined ? '404 Not Found' : '503 Service Unavailable';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, r.venue, r.make));
  }

  private onConnection(ws: WebSocket, venue: Venue, make: (link: SessionLink) => Session): void {
    this.connections += 1;
    if (this.faults.takeStormHit(venue)) {
      ws.terminate();
      return;
    }
    const stamps: number[] = [];
    const out: Outbox = { ws, venue, held: [], waiting: false };
    const link: SessionLink = {
      venue,
      send: (msg) => {
        if (this.faults.active('silence', venue)) this.swallowed += 1;
        else if (out.held.length > 0 || this.uncommitted()) this.hold(out, msg);
        else this.write(out, msg);
      },
      kill: (code, reason) => (code === undefined ? ws.terminate() : ws.close(code, reason)),
      rate: () => {
        const now = Date.now();
        while (stamps.length > 0 && (stamps[0] ?? 0) <= now - 1000) stamps.shift();
        return stamps.length;
      },
    };
    const conn: Conn = { ws, venue, session: make(link), stamps };
    this.conns.add(conn);
    ws.on('message', (data, isBinary) => {
      if (this.faults.active('silence', venue)) {
        this.swallowed += 1;
        return;
      }
      stamps.push(Date.now());
      try {
        conn.session.onMessage(isBinary ? '' : data.toString());
      } catch {
        ws.terminate();
      }
    });
    // autoPong is off so a silenced stream can stop answering the client's keepalive pings too.
    ws.on('ping', (data) => {
      if (this.faults.active('silence', venue)) this.swallowed += 1;
      else ws.pong(data);
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.conns.delete(conn));
  }
}
