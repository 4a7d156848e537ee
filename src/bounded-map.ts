// A map that remembers at least its `limit` most recently set keys and at most twice as many: per-prompt memory of a
// process that serves many clients (the gateway) must not grow with every prompt it ever saw. Two generations of
// plain Maps: when the young one is full it becomes the old one and the previous old one is dropped whole. Evicting
// one entry at a time from the front of a single Map costs more: V8 leaves deleted slots there until it rehashes,
// and every eviction walks past them to find the oldest live key.
export class BoundedMap<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K): V | undefined {
    const value = this.young.get(key);
    return value !== undefined ? value : this.old.get(key);
  }

  set(key: K, value: V): void {
    this.young.set(key, value);
    if (this.young.size < this.limit) return;
    this.old = this.young;
    this.young = new Map();
  }
}
