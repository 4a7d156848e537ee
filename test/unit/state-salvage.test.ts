// Salvage of keyed-record stores: one wrong-typed field costs its own entry, never the whole file.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { cooldownStateSchema, emptyCooldowns } from "../../src/runtime/cooldown-book.ts";
import { salvageRecords } from "../../src/state/salvage.ts";

describe("salvageRecords", () => {
  it("keeps every cooldown entry that parses and drops the one with a wrong-typed field", () => {
    const salvage = salvageRecords(cooldownStateSchema, emptyCooldowns);
    const raw = {
      v: 1,
      entries: { "r::a/1": { until: 5_000, kind: "rate_limit" }, "r::b/2": { until: "soon", kind: "server" } },
    };
    assert.throws(() => cooldownStateSchema.parse(raw));
    assert.deepEqual(salvage(raw), { v: 1, entries: { "r::a/1": { until: 5_000, kind: "rate_limit" } } });
  });

  it("keeps the array elements that parse and gives an unreadable plain field its default", () => {
    const schema = z.object({ v: z.literal(1), enabled: z.boolean(), items: z.array(z.object({ at: z.number() })) });
    const salvage = salvageRecords(schema, () => ({ v: 1 as const, enabled: false, items: [] }));
    assert.deepEqual(salvage({ v: 1, enabled: "yes", items: [{ at: 1 }, { at: "x" }, { at: 3 }] }), {
      v: 1,
      enabled: false,
      items: [{ at: 1 }, { at: 3 }],
    });
  });

  it("throws when the content is not an object of fields, so the store starts from its defaults", () => {
    assert.throws(() => salvageRecords(cooldownStateSchema, emptyCooldowns)([1, 2, 3]));
  });
});
