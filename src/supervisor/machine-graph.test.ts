import { describe, expect, it } from 'vitest';
import { governanceMachine } from '../machines/governance.machine.js';
import { symbolMachine } from '../machines/symbol.machine.js';
import { type ChartState, machineGraph } from './machine-graph.js';

const all = (s: ChartState): ChartState[] => [s, ...s.states.flatMap(all)];

describe('machineGraph', () => {
  it('keeps the parallel regions, the health states and their guarded transitions of a machine', () => {
    const g = machineGraph(governanceMachine);
    expect(g?.root).toMatchObject({ id: 'governance', type: 'parallel' });
    const health = g?.root.states.find((s) => s.key === 'health') as ChartState;
    expect(health.states.map((s) => s.key)).toEqual(expect.arrayContaining(['OK', 'DEGRADED', 'HALTED']));
    const ok = health.states.find((s) => s.key === 'OK') as ChartState;
    expect(ok.transitions).toContainEqual({
      event: 'health.halt',
      targets: ['governance.health.HALTED'],
      guard: 'health.changed',
    });
    expect(health.initial).toMatch(/^governance\.health\./);
  });

  it('gives every target as a state id of the same machine, and is plain JSON', () => {
    const g = machineGraph(symbolMachine);
    if (!g) throw new Error('no graph');
    const ids = new Set(all(g.root).map((s) => s.id));
    const targets = all(g.root).flatMap((s) => s.transitions.flatMap((t) => t.targets));
    expect(targets.length).toBeGreaterThan(5);
    expect(targets.filter((t) => !ids.has(t))).toEqual([]);
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it('answers undefined for logic that is not a machine', () => {
    expect(machineGraph({ transition: () => ({}) })).toBeUndefined();
    expect(machineGraph(null)).toBeUndefined();
  });
});
