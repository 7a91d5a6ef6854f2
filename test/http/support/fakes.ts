import type {
  AuditEntry,
  AuditEntryInput,
  AuditPort,
  HttpDeps,
  IdempotencyBegin,
  IdempotencyPort,
} from '../../../src/http/ports.js';
import { createLogger } from '../../../src/logging/logger.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import type {
  ActorNode,
  CommandResult,
  GovernanceView,
  RuntimePort,
  TradingCommand,
  TradingState,
} from '../../../src/supervisor/runtime-port.js';

/**
 * In-memory implementations of the ports http/ talks to (an interface seam, STYLE.md), for unit tests of the
 * HTTP layer. The integration tests in test/http use the real runtime and LMDB store instead.
 */

const entry = (state: TradingState, by = 'boot') => ({ state, reason: '', by, at: 0, command: 'boot' });

function node(id: string, kind: string, children: ActorNode[] = []): ActorNode {
  return {
    id,
    kind,
    liveness: 'running',
    status: 'active',
    value: {},
    health: 'OK',
    reason: '',
    restarts: 0,
    children,
  };
}

export class FakeRuntime implements RuntimePort {
  isReady = true;
  rootHealth: { value: 'OK' | 'DEGRADED' | 'HALTED'; reason: string } = { value: 'OK', reason: '' };
  gov: GovernanceView = { global: entry('ACTIVE'), venues: {}, symbols: {} };
  commands: TradingCommand[] = [];
  sent: Array<{ id: string; event: { type: string } }> = [];
  extras: Record<string, unknown> = {};
  /** Actors that exist but are restarting: `send` answers ACTOR_UNAVAILABLE. */
  restarting = new Set<string>();
  failSetTrading: Error | undefined;
  root: ActorNode = node('root', 'root', [
    node('core', 'core', [node('governance', 'governance'), node('heartbeat', 'heartbeat')]),
    node('venue:binance', 'venue', [node('conn:binance', 'conn')]),
  ]);

  ready(): boolean {
    return this.isReady;
  }
  health() {
    return this.rootHealth;
  }
  tree(): ActorNode {
    return this.root;
  }
  actor(id: string, withContext?: boolean): ActorNode | undefined {
    const find = (n: ActorNode): ActorNode | undefined => (n.id === id ? n : n.children.map(find).find(Boolean));
    const n = find(this.root);
    return n && withContext ? { ...n, context: { secretless: true } } : n;
  }
  allowedEvents(id: string): readonly string[] {
    return id.startsWith('conn:') ? ['sup.restartChild', 'conn.reset', 'xstate.stop'] : ['sup.restartChild'];
  }
  send(id: string, event: { type: string; [k: string]: unknown }): CommandResult {
    const r = this.check(id, event);
    if (r.accepted) this.sent.push({ id, event });
    return r;
  }
  check(id: string, _event: { type: string; [k: string]: unknown }): CommandResult {
    if (!this.actor(id)) return { accepted: false, error: { code: 'NOT_FOUND', message: `no actor '${id}'` } };
    if (this.restarting.has(id))
      return { accepted: false, error: { code: 'ACTOR_UNAVAILABLE', message: `actor '${id}' is backoff` } };
    return { accepted: true };
  }
  governance(): GovernanceView {
    return structuredClone(this.gov);
  }
  async setTrading(cmd: TradingCommand): Promise<GovernanceView> {
    if (this.failSetTrading) throw this.failSetTrading;
    await Promise.resolve();
    this.commands.push(cmd);
    const e = { state: cmd.state, reason: cmd.reason, by: cmd.actor, at: 1, command: cmd.command };
    if (cmd.scope === 'global') this.gov.global = e;
    else if (cmd.scope === 'venue') this.gov.venues[cmd.key!] = e;
    else this.gov.symbols[cmd.key!] = e;
    return this.governance();
  }
  effectiveTrading(): TradingState {
    return this.gov.global.state;
  }
  statusExtras(): Record<string, unknown> {
    return this.extras;
  }
  inspect(): () => void {
    return () => {};
  }
}

/** Same contract as src/store/idempotency.store.ts, without LMDB. */
export class FakeIdempotency implements IdempotencyPort {
  done = new Map<string, { hash: string; scope: string; status: number; body: unknown }>();
  inFlight = new Map<string, { hash: string; scope: string }>();
  abandoned: string[] = [];
  failComplete: Error | undefined;

  begin(key: string, requestHash: string, scope: string): IdempotencyBegin {
    const running = this.inFlight.get(key);
    if (running)
      return running.hash === requestHash && running.scope === scope ? { kind: 'in_flight' } : { kind: 'mismatch' };
    const d = this.done.get(key);
    if (d)
      return d.hash === requestHash && d.scope === scope
        ? { kind: 'replay', status: d.status, body: d.body }
        : { kind: 'mismatch' };
    this.inFlight.set(key, { hash: requestHash, scope });
    return { kind: 'new' };
  }
  async complete(key: string, status: number, body: unknown): Promise<void> {
    const claim = this.inFlight.get(key);
    if (!claim) throw new Error(`not claimed: ${key}`);
    try {
      if (this.failComplete) throw this.failComplete;
      await Promise.resolve();
      this.done.set(key, { ...claim, status, body: JSON.parse(JSON.stringify(body)) });
    } finally {
      this.inFlight.delete(key);
    }
  }
  abandon(key: string): void {
    this.abandoned.push(key);
    this.inFlight.delete(key);
  }
}

export class FakeAudit implements AuditPort {
  records: AuditEntry[] = [];
  failAppend: Error | undefined;

  async append(record: AuditEntryInput): Promise<{ seq: number; hash: string }> {
    if (this.failAppend) throw this.failAppend;
    await Promise.resolve();
    const seq = this.records.length + 1;
    const hash = `h${seq}`;
    // JSON round trip like the store: undefined members disappear.
    this.records.push(JSON.parse(JSON.stringify({ ...record, seq, ts: seq, prevHash: `h${seq - 1}`, hash })));
    return { seq, hash };
  }
  list(q: { limit: number; actor?: string; action?: string; since?: number }): AuditEntry[] {
    return [...this.records]
      .reverse()
      .filter(
        (r) => (q.actor === undefined || r.actor === q.actor) && (q.action === undefined || r.action === q.action),
      )
      .filter((r) => q.since === undefined || r.ts >= q.since)
      .slice(0, q.limit);
  }
}

export const TOKEN = 'test-token-0123456789abcdef';

export interface FakeDeps extends HttpDeps {
  runtime: FakeRuntime;
  idempotency: FakeIdempotency;
  audit: FakeAudit;
}

/** Fresh fakes with a silent logger and a registry without default metrics. */
export function fakeDeps(overrides: Partial<HttpDeps> = {}): FakeDeps {
  return {
    runtime: new FakeRuntime(),
    metrics: createMetrics({ defaultMetrics: false }),
    log: createLogger({ level: 'silent', stdout: false }).log,
    opsToken: TOKEN,
    idempotency: new FakeIdempotency(),
    audit: new FakeAudit(),
    ...overrides,
  } as FakeDeps;
}
