// One copy of each of the few names (routes, targets, tiers, outcomes) that many remembered records repeat: a log
// reader that keeps 100,000 request summaries would otherwise keep a copy of each name per summary, parsed from its
// own line, and carry them all into the old generation. Bounded: past `limit` distinct names, new ones are kept as they
// come.
export class SharedNames {
  private readonly names = new Map<string, string>();

  constructor(private readonly limit = 10_000) {}

  of(name: string): string {
    const shared = this.names.get(name);
    if (shared !== undefined) return shared;
    if (this.names.size < this.limit) this.names.set(name, name);
    return name;
  }
}
