// A state file whose JSON parses but fails its schema is moved aside with one warning; that warning must be one line
// naming where the content is wrong, not zod's multi-line dump of every issue (which split one warning over many
// lines of stderr, found by reliability/corruption.ts).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { z } from "zod";
import { openJsonStore, type StoreWarning } from "../../src/state/json-store.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const schema = z.object({
  v: z.literal(1),
  entries: z.record(z.string(), z.object({ until: z.number(), kind: z.string() })),
});

it("reports a state file with wrong types in one warning line naming the first bad field", async () => {
  const file = join(freshDir("auto-router-store-line"), "auto-router.cooldowns.json");
  writeFileSync(file, JSON.stringify({ v: "1", entries: { "route::a/b": { until: "soon", kind: 7 } } }));
  const warnings: StoreWarning[] = [];
  const store = openJsonStore({
    file,
    defaults: () => ({ v: 1 as const, entries: {} }),
    parse: (raw) => schema.parse(raw),
    onWarning: (warning) => warnings.push(warning),
    refreshIntervalMs: 0,
  });
  await store.close();
  assert.equal(warnings.length, 1);
  const message = warnings[0]!.message;
  assert.doesNotMatch(message, /\n/);
  // Each problem is named (the first three; more would be counted), not hidden behind "(and 2 more)".
  assert.match(message, /invalid content: v: .+; entries\.route::a\/b\.until: .+; entries\.route::a\/b\.kind: [^;]+\)/);
  assert.deepEqual(store.read(), { v: 1, entries: {} });
});
