// A small seeded pseudo-random generator (mulberry32) so every suite run with the same seed injects the same faults
// in the same order; Math.random() would make a failing run impossible to reproduce.

export interface SeededRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max], both included. */
  integer(min: number, max: number): number;
  /** True with the given probability. */
  chance(probability: number): boolean;
  /** A key of `weights`, drawn in proportion to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K;
}

export function createRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    integer: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (probability) => next() < probability,
    weighted<K extends string>(weights: Record<K, number>): K {
      const entries = Object.entries(weights) as Array<[K, number]>;
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      let point = next() * total;
      for (const [key, weight] of entries) {
        point -= weight;
        if (point < 0) return key;
      }
      return entries[entries.length - 1]![0];
    },
  };
}
