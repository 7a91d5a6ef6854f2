/**
 * Seeded randomness for the strategy math: Baum–Welch restarts and synthetic HMM paths must replay exactly from
 * a seed, and `Math.random` cannot be seeded. strategies/ may not import the simulator's generator (purity
 * boundary), so this is a separate mulberry32 with the same properties: tiny state, fast, good enough for
 * initialisation and tests (not for anything cryptographic).
 */

/** A seeded uniform and Gaussian source. */
export interface SeededRng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  gaussian(): number;
}

/** Creates a mulberry32 generator with a Box–Muller Gaussian; the same seed gives the same stream. */
export function createRng(seed: number): SeededRng {
  let state = seed >>> 0;
  let spare: number | undefined;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
  const gaussian = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = next();
    // log(0) would be -Infinity: redraw the (1 in 2^32) zero.
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { next, gaussian };
}
