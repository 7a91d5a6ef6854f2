import type { GovernanceState, ScopeState, TradingState } from '../machines/governance.machine.js';
import type { Health } from '../machines/health.js';
import type { HealthEntry } from './health-history.js';
import type { MachineGraph } from './machine-graph.js';
import type { Liveness } from './rollup.js';
import type { TransitionEntry } from './transition-history.js';

export type { HealthEntry } from './health-history.js';
export type { ChartState, ChartTransition, MachineGraph } from './machine-graph.js';
export type { TransitionEntry } from './transition-history.js';

/**
 * The one small interface the HTTP layer talks to (STYLE.md: http/ never reaches machines or venues). The
 * runtime implements it; tests of http/ may use any implementation of it.
 */
export type TradingScope = 'global' | 'venue' | 'symbol';

// The trading-state shapes belong to the governance machine; the port names them for the HTTP layer.
export type { TradingState } from '../machines/governance.machine.js';
/** One scope's state: who set it (X-Ops-Actor, or system/env/boot), when (epoch ms), and the command. */
export type ScopeTrading = ScopeState;
export type GovernanceView = GovernanceState;

export interface TradingCommand {
  scope: TradingScope;
  /** Venue id for `venue`, `venue:SYMBOL` for `symbol`; ignored for `global`. */
  key?: string | undefined;
  state: TradingState;
  reason: string;
  actor: string;
  command: string;
}

/** One node of the actor tree as the HTTP layer and the inspector see it (plain JSON). */
export interface ActorNode {
  id: string;
  kind: string;
  liveness: Liveness | 'root';
  status: string;
  value: unknown;
  health: Health;
  reason: string;
  restarts: number;
  lastError?: string | undefined;
  critical?: boolean | undefined;
  context?: unknown;
  children: ActorNode[];
}

export interface CommandResult {
  accepted: boolean;
  /** Why a command was not delivered (unknown actor, restarting, not allowed). */
  error?: { code: 'NOT_FOUND' | 'ACTOR_UNAVAILABLE' | 'BAD_REQUEST'; message: string };
}

/** One line of the inspector's event log: an actor event (XState inspection) or a transition seen in the tree. */
export interface InspectEvent {
  seq: number;
  ts: number;
  type: string;
  from?: string | undefined;
  to?: string | undefined;
  /** Reason of a health change, the error of a crash, the restart count. */
  detail?: string | undefined;
}

export interface InspectListener {
  /** Full tree on attach and on topology changes; node updates coalesced (at most every flush). */
  tree(root: ActorNode): void;
  nodes(nodes: ActorNode[]): void;
  event(e: InspectEvent): void;
}

export interface InspectOptions {
  /** Every actor event through XState inspection (costs actor throughput); default: tree transitions only. */
  events?: boolean | undefined;
}

/** Every machine the live actors run, drawn once per machine, and which machine each actor runs. */
export interface MachineCatalog {
  machines: Record<string, MachineGraph>;
  /** Actor id → key in `machines` (1,000 symbol actors share one graph). */
  actors: Record<string, string>;
}

export interface RuntimePort {
  /** True once boot recovery has finished (`/readyz`). */
  ready(): boolean;
  /** System health (the root's roll-up). */
  health(): { value: Health; reason: string };
  tree(): ActorNode;
  actor(id: string, withContext?: boolean): ActorNode | undefined;
  /** Sends an allow-listed event to an actor; supervisor commands go to the actor's parent. */
  send(id: string, event: { type: string; [k: string]: unknown }): CommandResult;
  /** What `send` would answer, without the effect (the HTTP layer audits between the two). */
  check(id: string, event: { type: string; [k: string]: unknown }): CommandResult;
  /** Events an operator may send to an actor of this kind. */
  allowedEvents(id: string): readonly string[];
  governance(): GovernanceView;
  /** Applies a trading-state command durably (LMDB) before resolving. */
  setTrading(cmd: TradingCommand): Promise<GovernanceView>;
  /** Effective state for a venue/symbol (most restrictive of global, venue and symbol). */
  effectiveTrading(venue?: string, symbol?: string): TradingState;
  /** Extra fields for `/status` from actors that exist (balances once account actors exist). */
  statusExtras(): Record<string, unknown>;
  /** Attach an inspection listener; detached (and inspection off) when the last one leaves. */
  inspect(listener: InspectListener, opts?: InspectOptions): () => void;
  /** The statecharts of the live actors (the inspector draws them); optional for fakes. */
  machines?(): MachineCatalog;
  /** An actor's health edges over the last hour, oldest first; optional for fakes. */
  healthHistory?(id: string): HealthEntry[];
  /** An actor's last state changes (bounded, from boot), oldest first; optional for fakes. */
  transitions?(id: string): TransitionEntry[];
}
