// Parts of a streamed answer kept by the index the target's events give them (a content block's, a choice's, a tool
// call's, an output item's). The index is the target's word: in an array, `"index": 4294967294` made a four-billion
// element array that reading the answer walked (the gateway's thread stalled), and an index that skips numbers left
// holes that came back as undefined parts. Here parts are kept in a Map and read back in index order, without holes.
export class IndexedParts<T> {
  private readonly parts = new Map<number, T>();
  private highest = -1;

  get(index: number): T | undefined {
    return this.parts.get(index);
  }

  set(index: number, part: T): void {
    this.parts.set(index, part);
    if (index > this.highest) this.highest = index;
  }

  /** The part at `index`, made first by `make` when there is none. */
  at(index: number, make: () => T): T {
    const part = this.parts.get(index);
    if (part !== undefined) return part;
    const made = make();
    this.set(index, made);
    return made;
  }

  /** The index after the highest so far: where a part the target gave no index goes. */
  next(): number {
    return this.highest + 1;
  }

  get size(): number {
    return this.parts.size;
  }

  /** Every part, by index; with `instead`, that part at its index in place of the one kept there (which stays). */
  inOrder(instead?: { index: number; part: T }): T[] {
    const entries = [...this.parts.entries()];
    if (instead) {
      const at = entries.findIndex(([index]) => index === instead.index);
      if (at >= 0) entries[at] = [instead.index, instead.part];
      else entries.push([instead.index, instead.part]);
    }
    return entries.sort(([a], [b]) => a - b).map(([, part]) => part);
  }
}
