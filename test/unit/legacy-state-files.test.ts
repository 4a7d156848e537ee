// The earlier pi-auto-router's latency and ratings files (shared/docs/legacy-formats.md) read entry by entry: an entry
// that cannot be read is left out and named in the old file's terms, every other one is kept.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { legacyRatingsFormat, parseRatingsState, salvageRatingsState } from "../../src/ratings/legacy-ratings.ts";
import { legacyLatencyFormat, parseLatencyState, salvageLatencyState } from "../../src/runtime/legacy-latency.ts";
import { emptyLatency } from "../../src/runtime/latency-book.ts";
import { importLegacyFile } from "../../src/state/legacy-import.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";
import { contentProblem } from "../../src/state/state-file.ts";
import { z } from "zod";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freshDir } from "../helpers/fresh-dir.ts";

const entry = (count: unknown, totalMs: unknown) => ({ count, totalMs, lastMs: 300, updatedAt: 1700000000000 });

describe("the earlier router's latency file with entries that cannot be read", () => {
  const raw = {
    "mock-a": entry(3, 900),
    "mock-b": { count: 2, totalMs: 5000, lastMs: 2500 },
    "mock-c": entry("3", 900),
    "mock-d": entry(2, -10),
  };

  it("names each entry left out, the field and what was expected, and keeps every other provider's average", () => {
    assert.throws(
      () => parseLatencyState(raw),
      (error: Error) => {
        assert.equal(
          error.message,
          "the earlier router's latency file has 3 entries (mock-b.updatedAt: missing: this key is required (a number); " +
            'mock-c.count: expected a whole number of requests, 1 or more, got "3"; ' +
            "mock-d.totalMs: expected milliseconds, 0 or more, got -10) that cannot be read",
        );
        assert.doesNotMatch(error.message, /\bv\b/, "no field of our own format");
        return true;
      },
    );
    const kept = salvageLatencyState(raw);
    assert.deepEqual(kept.imported, { "mock-a": { averageMs: 300, count: 3, updatedAt: 1700000000000 } });
    assert.deepEqual(kept.targets, {});
  });

  it("imports the readable entries into the team state and lists the others; throws when none can be read", () => {
    const converted = legacyLatencyFormat.convert(raw)!;
    assert.deepEqual(Object.keys(converted.state.imported ?? {}), ["mock-a"]);
    assert.deepEqual(
      converted.dropped.map((problems) => problems.map((problem) => problem.split(":")[0])),
      [["mock-b.updatedAt"], ["mock-c.count"], ["mock-d.totalMs"]],
    );
    assert.throws(
      () => legacyLatencyFormat.convert({ "mock-b": raw["mock-b"] }),
      /^Error: no provider's average can be read: mock-b\.updatedAt: missing/,
    );
    assert.throws(() => salvageLatencyState({ "mock-d": raw["mock-d"] }), /mock-d\.totalMs/);
  });

  it("in team mode, imports the readable entries once and says which it left out, and where a file is broken", () => {
    const dir = freshDir("auto-router-legacy-latency");
    const file = join(dir, "auto-router.latency.json");
    const warnings: string[] = [];
    const store = createMemoryStore(emptyLatency());
    try {
      writeFileSync(file, JSON.stringify(raw));
      importLegacyFile(store, file, legacyLatencyFormat, (text) => warnings.push(text));
      importLegacyFile(store, file, legacyLatencyFormat, (text) => warnings.push(text));
      assert.deepEqual(Object.keys(store.read().imported ?? {}), ["mock-a"]);
      assert.deepEqual(warnings, [
        `auto-router: imported ${file} without 3 entries (mock-b.updatedAt: missing: this key is required (a number); ` +
          'mock-c.count: expected a whole number of requests, 1 or more, got "3"; ' +
          "mock-d.totalMs: expected milliseconds, 0 or more, got -10) it could not read (the file is kept unchanged)",
      ]);
      writeFileSync(file, '{\n  "mock-a": {count: 1}}');
      importLegacyFile(store, file, legacyLatencyFormat, (text) => warnings.push(text));
      assert.equal(
        warnings.at(-1),
        `auto-router: could not import ${file}:2:14 (kept unchanged): not valid JSON: Expected property name or '}'`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a whole old file as before, and our own file as ours", () => {
    // count 0 is no data to the earlier router (its average divides by zero): skipped, not named unreadable.
    assert.deepEqual(parseLatencyState({ "mock-a": entry(4, 6000), "mock-z": entry(0, 0) }).imported, {
      "mock-a": { averageMs: 1500, count: 4, updatedAt: 1700000000000 },
    });
    assert.deepEqual(parseLatencyState({ "mock-z": entry(0, 0) }).imported, {});
    assert.deepEqual(parseLatencyState({ v: 1, targets: {} }), { v: 1, targets: {} });
    assert.equal(legacyLatencyFormat.convert({ v: 1, targets: {} }), undefined);
  });

  it("takes a time to first token no request takes for damage, in our file and in the earlier one's averages", () => {
    // A hand edit of the right type: read as written, it would rank the target last for good.
    const ours = {
      v: 1,
      targets: {
        "mock-a/model-a": { ttftMs: 4e15, samples: 3, updatedAt: 1700000000000 },
        "mock-b/model-b": { ttftMs: 250, samples: 3, updatedAt: 1700000000000 },
      },
    };
    assert.throws(() => parseLatencyState(ours), /ttftMs/);
    assert.deepEqual(Object.keys(salvageLatencyState(ours).targets), ["mock-b/model-b"]);
    assert.throws(
      () => parseLatencyState({ "mock-a": entry(2, 8e15), "mock-b": entry(2, 600) }),
      /mock-a\.totalMs: expected an average \(totalMs \/ count\) of at most 1000000000 ms/,
    );
    assert.deepEqual(
      Object.keys(salvageLatencyState({ "mock-a": entry(2, 8e15), "mock-b": entry(2, 600) }).imported ?? {}),
      ["mock-b"],
    );
  });

  it("says a file that is no object at all is neither shape, naming this router's first", () => {
    for (const raw of [[1, 2, 3], null, "text"])
      assert.throws(
        () => parseLatencyState(raw),
        /^Error: expected an object: \{"v": 1, "targets": \{\.\.\.\}\} \(or, from the earlier pi-auto-router, providers each \{count, totalMs, lastMs, updatedAt\}\)$/,
      );
  });
});

describe("the earlier router's ratings file with entries that cannot be read", () => {
  const good = { provider: "mock-a", modelId: "model-a", rating: "good", timestamp: 1 };
  const raw = [
    { ...good, rating: "meh" },
    { provider: "mock-a", rating: "good", timestamp: 2 },
    good,
    { ...good, timestamp: true },
  ];

  it("names every entry left out, by its place in the array, and keeps the others", () => {
    assert.throws(
      () => parseRatingsState(raw),
      (error: Error) => {
        assert.equal(
          error.message,
          'the earlier router\'s ratings file has 3 entries (0.rating: expected one of "good", "bad", got "meh"; ' +
            "1.modelId: missing: this key is required (a string); 3.timestamp: expected number or string, got boolean) " +
            "that cannot be read",
        );
        return true;
      },
    );
    assert.equal(salvageRatingsState(raw).targets["mock-a/model-a"]?.length, 1);
    assert.equal(legacyRatingsFormat.convert(raw)?.dropped.length, 3);
  });

  it("reads an entry whose optional fields are null as one without them, as the earlier router read it", () => {
    const nulls = { requestId: null, routeId: null, reason: null, tags: null, tier: null, intent: null };
    const state = parseRatingsState([
      { ...good, ...nulls, conversationId: null },
      { ...good, timestamp: 2 },
    ]);
    assert.deepEqual(state.targets["mock-a/model-a"], [
      { at: 1, rating: "good", requestId: "legacy-rating-1" },
      { at: 2, rating: "good", requestId: "legacy-rating-2" },
    ]);
    // A required field written as null is still named.
    assert.equal(legacyRatingsFormat.convert([{ ...good, modelId: null }, good])?.dropped.length, 1);
  });

  it("says a file that is neither our ratings nor the old array is neither, without naming a field it never had", () => {
    const neither =
      'expected this router\'s ratings ({"v": 1, "targets": {...}}) or the earlier router\'s (an array of ratings)';
    assert.throws(
      () => parseRatingsState({ a: 1 }),
      (error: Error) => error.message === neither,
    );
    assert.throws(
      () => salvageRatingsState({ a: 1 }),
      (error: Error) => error.message === neither,
    );
  });
});

describe("a state file's invalid content", () => {
  it("names the first problems and counts the rest, instead of hiding them as (and 1 more)", () => {
    const error = z.array(z.number()).safeParse(["a", "b", "c", "d", "e"]).error;
    assert.match(contentProblem(error), /^0: .*; 1: .*; 2: .*; and 2 more problems$/);
    const two = z.object({ a: z.number(), b: z.number() }).safeParse({}).error;
    assert.match(contentProblem(two), /^a: .*; b: .*$/);
  });
});
