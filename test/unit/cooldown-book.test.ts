import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouterConfig } from "../../src/config/schema.ts";
import {
  boundedCooldown,
  CooldownBook,
  type CooldownState,
  emptyCooldowns,
  longestCooldownMs,
} from "../../src/runtime/cooldown-book.ts";
import { MAXIMUM_RETRY_HINT_MS } from "../../src/runtime/retry-hint.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";

const NOW = Date.UTC(2026, 10, 29, 12);
const HOUR_MS = 3_600_000;
const TEN_DAYS_MS = 240 * HOUR_MS;

describe("cooldown bounds", () => {
  it("keeps a cooldown within its own length from now, and moves one set by a clock ahead back to it", () => {
    const within = { until: NOW + 500, ms: 1_000, kind: "rate_limit" };
    assert.equal(
      boundedCooldown(within, NOW, () => MAXIMUM_RETRY_HINT_MS),
      within,
    );
    const ahead = { until: NOW + TEN_DAYS_MS + 1_000, ms: 1_000, kind: "rate_limit" };
    assert.equal(boundedCooldown(ahead, NOW, () => MAXIMUM_RETRY_HINT_MS).until, NOW + 1_000);
  });

  it("bounds an entry without its length by the longest cooldown the router could set", () => {
    const old = { until: NOW + TEN_DAYS_MS, kind: "rate_limit" };
    assert.equal(boundedCooldown(old, NOW, () => MAXIMUM_RETRY_HINT_MS).until, NOW + MAXIMUM_RETRY_HINT_MS);
  });

  it("takes a configured cooldown longer than a retry hint's maximum as the longest", () => {
    assert.equal(longestCooldownMs(undefined), MAXIMUM_RETRY_HINT_MS);
    const config = {
      routes: { main: { targets: [], failover: { kinds: { auth: { cooldownMs: TEN_DAYS_MS } } } } },
    } as unknown as RouterConfig;
    assert.equal(longestCooldownMs(config), TEN_DAYS_MS);
  });
});

describe("CooldownBook", () => {
  it("records each cooldown's length, and a cooldown bounded once runs out from there", () => {
    const store = createMemoryStore<CooldownState>(emptyCooldowns());
    const book = new CooldownBook(store);
    book.set("main|a/m", { until: NOW + TEN_DAYS_MS + 1_000, kind: "rate_limit" }, NOW + TEN_DAYS_MS);
    assert.equal(store.read().entries["main|a/m"]!.ms, 1_000);
    assert.equal(book.active(NOW)["main|a/m"]!.until, NOW + 1_000);
    assert.equal(store.read().entries["main|a/m"]!.until, NOW + 1_000, "kept bounded");
    assert.deepEqual(book.active(NOW + 1_000), {}, "over after its 1 s");
  });

  it("lets a new cooldown replace one that a clock ahead made look longer", () => {
    const store = createMemoryStore<CooldownState>({
      v: 1,
      entries: { "main|a/m": { until: NOW + TEN_DAYS_MS, ms: 1_000, kind: "rate_limit" } },
    });
    const book = new CooldownBook(store);
    book.set("main|a/m", { until: NOW + 60_000, kind: "overloaded" }, NOW);
    assert.deepEqual(book.active(NOW)["main|a/m"], { until: NOW + 60_000, ms: 60_000, kind: "overloaded" });
  });
});
