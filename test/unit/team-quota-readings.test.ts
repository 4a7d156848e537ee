// Usage-API readings shared between processes (the quota store, the team store in team mode): a fresh shared
// reading is used instead of polling, and only the holder of a source's claim fetches it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SourceCache, type QuotaSource, type SharedReadings } from "../../src/quota/source-cache.ts";
import type { QuotaWindow } from "../../src/routing/uvi.ts";

const window = (usedFraction: number): QuotaWindow => ({
  name: "5h",
  usedFraction,
  windowMs: 5 * 3_600_000,
  resetsAt: 10 * 3_600_000,
});

function setup(now: () => number) {
  const store = new Map<string, { windows: QuotaWindow[]; fetchedAt: number }>();
  const claims = new Map<string, number>();
  const fetches: string[] = [];
  const shared: SharedReadings = {
    read: (id) => store.get(id),
    write: (id, reading) => void store.set(id, reading),
    claim: async (name, ttlMs) => {
      if ((claims.get(name) ?? -Infinity) > now()) return false;
      claims.set(name, now() + ttlMs);
      return true;
    },
  };
  const source = (used: number): QuotaSource => ({
    id: "anthropic-usage",
    provider: "anthropic",
    fetch: async () => {
      fetches.push("fetch");
      return [window(used)];
    },
  });
  return { shared, fetches, source, store };
}

describe("shared quota readings", () => {
  it("lets one of two processes fetch a source per TTL; the other uses its reading", async () => {
    let clock = 1_000;
    const now = () => clock;
    const { shared, fetches, source } = setup(now);
    const first = new SourceCache([source(0.9)], now, () => 60_000, shared);
    const second = new SourceCache([source(0.9)], now, () => 60_000, shared);
    await Promise.all([first.refresh(), second.refresh()]);
    assert.equal(fetches.length, 1);
    for (const cache of [first, second]) assert.equal(cache.windowsByProvider().anthropic?.[0]?.usedFraction, 0.9);
    assert.equal(second.reading("anthropic-usage")?.shared ?? first.reading("anthropic-usage")?.shared, true);
    clock += 30_000;
    await Promise.all([first.refresh(), second.refresh()]);
    assert.equal(fetches.length, 1, "a fresh shared reading is not fetched again");
    clock += 31_000;
    await Promise.all([first.refresh(), second.refresh()]);
    assert.equal(fetches.length, 2, "after the TTL one process fetches again");
  });

  it("fetches on a forced refresh (/auto-router uvi refresh) whatever is shared", async () => {
    const now = () => 5_000;
    const { shared, fetches, source, store } = setup(now);
    store.set("anthropic-usage", { windows: [window(0.2)], fetchedAt: 4_000 });
    const cache = new SourceCache([source(0.5)], now, () => 60_000, shared);
    await cache.refresh();
    assert.equal(fetches.length, 0);
    assert.equal(cache.windowsByProvider().anthropic?.[0]?.usedFraction, 0.2);
    await cache.refresh(true);
    assert.equal(fetches.length, 1);
    assert.equal(cache.windowsByProvider().anthropic?.[0]?.usedFraction, 0.5);
    assert.equal(store.get("anthropic-usage")?.fetchedAt, 5_000);
  });
});
