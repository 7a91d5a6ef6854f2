/**
 * A machine's statechart as the inspector draws it (issue 18): XState's own definition (`machine.definition`, the
 * resolved state-node tree) cut down to what a drawing needs: states with their type and children, the initial
 * child, and each transition's event, targets and guard. Actions, params and functions are left out, so the result
 * is small plain JSON (the symbol machine: ~7 KB definition → ~3 KB graph).
 */
export interface ChartTransition {
  /** `venue.tick`, `xstate.after.5000…`, `xstate.done.actor.…`, or '' for an eventless (`always`) transition. */
  event: string;
  /** State ids (`symbol.running.health.DEGRADED`); empty for a targetless (internal) transition. */
  targets: string[];
  guard?: string | undefined;
}

export interface ChartState {
  /** Dotted id, unique in the machine (`symbol.running.health.OK`). */
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial?: string | undefined;
  transitions: ChartTransition[];
  states: ChartState[];
}

export interface MachineGraph {
  id: string;
  root: ChartState;
}

interface DefTransition {
  eventType?: string | null;
  target?: readonly unknown[];
  guard?: unknown;
}
interface DefNode {
  id: string;
  key: string;
  type: ChartState['type'];
  initial?: { target?: readonly unknown[] };
  states?: Record<string, DefNode>;
  transitions?: readonly DefTransition[];
  always?: readonly DefTransition[];
}

function guardName(g: unknown): string | undefined {
  if (g === undefined || g === null) return undefined;
  if (typeof g === 'string') return g;
  if (typeof g === 'function') return g.name && g.name !== 'guard' ? g.name : 'inline';
  if (typeof g === 'object' && 'type' in g) return String((g as { type: unknown }).type);
  return 'guard';
}

/** A target as the definition gives it: `#id` strings from transitions, state-node objects from `initial`. */
function targetId(t: unknown): string {
  if (typeof t === 'string') return t.startsWith('#') ? t.slice(1) : t;
  return String((t as { id?: unknown } | null)?.id ?? '');
}

function transitionOf(t: DefTransition): ChartTransition {
  return { event: t.eventType ?? '', targets: (t.target ?? []).map(targetId), guard: guardName(t.guard) };
}

function stateOf(d: DefNode): ChartState {
  const transitions = [...(d.transitions ?? []), ...(d.always ?? [])].map(transitionOf);
  const initial = d.initial?.target?.[0];
  return {
    id: d.id,
    key: d.key,
    type: d.type,
    initial: initial ? targetId(initial) : undefined,
    transitions,
    states: Object.values(d.states ?? {}).map(stateOf),
  };
}

/** The drawable graph of a machine (anything with XState's `definition`), or undefined for other actor logic. */
export function machineGraph(logic: unknown): MachineGraph | undefined {
  const def = (logic as { definition?: DefNode } | null)?.definition;
  if (!def || typeof def !== 'object' || typeof def.id !== 'string') return undefined;
  return { id: def.id, root: stateOf(def) };
}
