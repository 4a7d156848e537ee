// The text of one event-log flush, built a slice of lines per turn of the event loop. A full buffer (500 lines)
// takes ~1 ms to redact and serialise; in slices, a request that arrives meanwhile waits for one slice (~0.1 ms),
// not for the whole flush. The exit hook can take the lines over midway and write them itself.
import type { LogLine } from "./log-lines.ts";

/** Lines redacted and serialised per turn of the event loop. */
export const SERIALISE_SLICE_LINES = 48;

export class SlicedSerialisation {
  /** The text of entries[0, next). */
  private readonly lines: string[] = [];
  private next = 0;
  private takenOver = false;

  constructor(
    private readonly entries: Array<LogLine | string>,
    private readonly text: (entries: Array<LogLine | string>) => string[],
  ) {}

  /** Every entry's text, in order; undefined when takeOver() was called meanwhile (the lines are no longer ours). */
  async run(): Promise<string[] | undefined> {
    while (this.next < this.entries.length) {
      if (this.next > 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.takenOver) return undefined;
      }
      const end = Math.min(this.entries.length, this.next + SERIALISE_SLICE_LINES);
      for (const line of this.text(this.entries.slice(this.next, end))) this.lines.push(line);
      this.next = end;
    }
    return this.lines;
  }

  /** The lines serialised so far and the entries not yet: run() then ends without them. */
  takeOver(): Array<LogLine | string> {
    this.takenOver = true;
    return [...this.lines, ...this.entries.slice(this.next)];
  }
}
