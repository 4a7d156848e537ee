// The successes of a quietly closed breaker that were not written to its store (breaker-book.ts): only their times,
// oldest first, at most `capacity` of them. A fixed ring of numbers: a success is counted on every served request,
// and keeping the last N as an array of sample objects (push one, cut the oldest off the front) allocated on each.
import type { CallSample } from "./breaker.ts";

export class RecentSuccesses {
  private readonly times: Float64Array;
  private start = 0;
  private count = 0;

  constructor(private readonly capacity: number) {
    this.times = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a success at `at` and forgets those at or before `at - windowMs`, and the oldest beyond the capacity. */
  add(at: number, windowMs: number): void {
    if (this.count === this.capacity) this.dropOldest();
    this.times[(this.start + this.count) % this.capacity] = at;
    this.count += 1;
    while (this.count > 0 && this.times[this.start]! <= at - windowMs) this.dropOldest();
  }

  /** The kept successes, oldest first, as breaker samples. */
  samples(): CallSample[] {
    const out: CallSample[] = [];
    for (let index = 0; index < this.count; index++)
      out.push({ at: this.times[(this.start + index) % this.capacity]!, failed: false });
    return out;
  }

  private dropOldest(): void {
    this.start = (this.start + 1) % this.capacity;
    this.count -= 1;
  }
}
