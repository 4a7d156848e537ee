// Bounded-memory distributions for the per-model latency and cost figures. Up to RESERVOIR_SIZE values are kept
// exactly (so small logs give exact percentiles, which tests assert); beyond that a uniform reservoir sample keeps
// memory flat for million-event logs. The sampler's randomness is a seeded generator, so runs are repeatable.

export const RESERVOIR_SIZE = 20_000;

/** Small deterministic generator (mulberry32); statistical quality is plenty for reservoir sampling. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

export class ValueSample {
  private readonly values: number[] = [];
  private readonly random: () => number;
  private sorted = true;
  count = 0;
  sum = 0;

  constructor(
    private readonly capacity = RESERVOIR_SIZE,
    seed = 1,
  ) {
    this.random = seededRandom(seed);
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.count++;
    this.sum += value;
    if (this.values.length < this.capacity) {
      this.values.push(value);
      this.sorted = false;
      return;
    }
    const slot = Math.floor(this.random() * this.count);
    if (slot < this.capacity) {
      this.values[slot] = value;
      this.sorted = false;
    }
  }

  /** Nearest-rank percentile (p in 0..100); undefined when empty. */
  percentile(p: number): number | undefined {
    if (this.values.length === 0) return undefined;
    if (!this.sorted) {
      this.values.sort((a, b) => a - b);
      this.sorted = true;
    }
    const rank = Math.ceil((p / 100) * this.values.length);
    return this.values[Math.min(this.values.length - 1, Math.max(0, rank - 1))];
  }
}

/** Exact counts per bucket: bucket i holds values < bounds[i] (and >= bounds[i-1]); the last holds the rest. */
export class BucketCounter {
  readonly counts: number[];

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    let index = 0;
    while (index < this.bounds.length && value >= this.bounds[index]!) index++;
    this.counts[index]!++;
  }

  /** Labels such as "<1s", "1s-2s", ">=60s" built with the given formatter. */
  labels(format: (value: number) => string): string[] {
    return this.counts.map((_, index) => {
      if (index === 0) return `<${format(this.bounds[0]!)}`;
      if (index === this.bounds.length) return `>=${format(this.bounds[index - 1]!)}`;
      return `${format(this.bounds[index - 1]!)}-${format(this.bounds[index]!)}`;
    });
  }
}
