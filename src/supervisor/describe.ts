import type { AnyActorRef } from 'xstate';
import { parseActorId } from '../domain/ids.js';
import type { Health, HealthInfo } from '../machines/health.js';
import type { KidState } from './policy.js';
import type { ActorNode } from './runtime-port.js';
import type { SupervisorContext } from './supervisor.js';

/**
 * Serialises the live tree for `/actors`, the inspector and tests. Children come from the supervisor's own
 * bookkeeping (`order` + `kids`) so a child waiting in backoff, absent from XState's `snapshot.children`, still
 * shows with its liveness, restarts and last error.
 */
export function isSupervisorContext(ctx: unknown): ctx is SupervisorContext {
  return typeof ctx === 'object' && ctx !== null && 'kids' in ctx && 'order' in ctx && 'specs' in ctx;
}

function healthOf(ref: AnyActorRef): HealthInfo {
  const snap = ref.getSnapshot() as {
    status: string;
    error?: unknown;
    context?: { health?: HealthInfo };
    hasTag?: (t: string) => boolean;
  };
  if (snap.status === 'error')
    return { value: 'HALTED', reason: `crashed: ${String((snap.error as Error)?.message ?? snap.error)}` };
  const h = snap.context?.health;
  if (h && typeof h === 'object' && 'value' in h) return h;
  if (snap.hasTag?.('health:halted')) return { value: 'HALTED', reason: '' };
  if (snap.hasTag?.('health:degraded')) return { value: 'DEGRADED', reason: '' };
  return { value: 'OK', reason: '' };
}

/** JSON-safe, size-capped copy of an actor context for display (refs, errors, maps turned into data). */
export function sanitize(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'function') return undefined;
  if (typeof value !== 'object')
    return typeof value === 'string' && value.length > 500 ? `${value.slice(0, 500)}…` : value;
  if (depth > 4) return '…';
  if (value instanceof Error) return { error: value.message };
  if ('sessionId' in value && 'send' in value) return { ref: (value as unknown as { id: string }).id };
  if (value instanceof Map) return sanitize(Object.fromEntries(value), depth);
  if (value instanceof Set) return sanitize([...value], depth);
  if (Array.isArray(value)) {
    const out = value.slice(0, 50).map((v) => sanitize(v, depth + 1));
    if (value.length > 50) out.push(`…${value.length - 50} more`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    if (n++ >= 50) {
      out['…'] = 'truncated';
      break;
    }
    out[k] = sanitize(v, depth + 1);
  }
  return out;
}

function summary(ctx: unknown): unknown {
  if (isSupervisorContext(ctx))
    return { strategy: ctx.strategy, restartsInWindow: ctx.restartLog.length, draining: Boolean(ctx.drain) };
  return sanitize(ctx);
}

export interface DescribeOptions {
  context?: boolean;
  /** Limit recursion (1 = the node and its direct children). */
  depth?: number;
}

/** Describes one live actor and, recursively, its supervised children. */
export function describe(
  ref: AnyActorRef,
  kid?: KidState,
  critical?: boolean,
  opts: DescribeOptions = {},
  level = 0,
): ActorNode {
  const snap = ref.getSnapshot() as { status: string; value?: unknown; context?: unknown };
  const id = (ref as { systemId?: string }).systemId ?? ref.id;
  const h = healthOf(ref);
  const ctx = snap.context;
  const node: ActorNode = {
    id,
    kind: parseActorId(id).kind,
    liveness: kid ? kid.liveness : 'root',
    status: snap.status,
    value: snap.value ?? null,
    health: h.value,
    reason: h.reason,
    restarts: kid?.restarts ?? 0,
    lastError: kid?.lastError,
    critical,
    children: [],
  };
  if (opts.context) node.context = summary(ctx);
  const deeper = opts.depth === undefined || level < opts.depth;
  if (isSupervisorContext(ctx) && deeper) {
    const live = (ref.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children;
    for (const childId of ctx.order) {
      const k = ctx.kids[childId];
      const spec = ctx.specs[childId];
      const child = live[childId];
      if (child && k?.liveness === 'running') {
        node.children.push(
          describe(child, k, spec?.critical, { ...opts, context: opts.context && level < 0 }, level + 1),
        );
      } else {
        node.children.push(absent(spec?.systemId ?? childId, k, spec?.critical));
      }
    }
  }
  return node;
}

/** A supervised child that is not running (backoff, stopped, removed): shown from the supervisor's records. */
function absent(id: string, k: KidState | undefined, critical?: boolean): ActorNode {
  const liveness = k?.liveness ?? 'removed';
  const health: Health = liveness === 'removed' ? 'OK' : critical ? 'HALTED' : 'DEGRADED';
  return {
    id,
    kind: parseActorId(id).kind,
    liveness,
    status: liveness,
    value: null,
    health,
    reason: liveness,
    restarts: k?.restarts ?? 0,
    lastError: k?.lastError,
    critical,
    children: [],
  };
}

/** Finds a node by id in a described tree. */
export function findNode(root: ActorNode, id: string): ActorNode | undefined {
  if (root.id === id) return root;
  for (const c of root.children) {
    const f = findNode(c, id);
    if (f) return f;
  }
  return undefined;
}
