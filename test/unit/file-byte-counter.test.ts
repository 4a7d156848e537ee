// The bench's count of bytes written to files: appends and atomically replaced files count, a rotation's rename and
// the event loop's own writes do not.
import assert from "node:assert/strict";
import { appendFile } from "node:fs/promises";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import writeFileAtomic from "write-file-atomic";
import { countFileBytes } from "../helpers/request-cost-counters.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

describe("countFileBytes", () => {
  it("counts appends and whole files renamed into place, not a log rotation's rename", async () => {
    const dir = freshDir("auto-router-file-bytes");
    const log = join(dir, "events.jsonl");
    const counter = countFileBytes();
    try {
      await appendFile(log, "x".repeat(100));
      await writeFileAtomic(join(dir, "state.json"), "y".repeat(250));
      writeFileAtomic.sync(join(dir, "other.json"), "z".repeat(40));
      assert.equal(counter.bytes(), 390);
      renameSync(log, `${log}.1`); // a rotation moves bytes, it does not write them
      writeFileSync(join(dir, "inventory.json"), "w".repeat(10));
      assert.equal(counter.bytes(), 400);
    } finally {
      counter.stop();
    }
    await appendFile(log, "after the counter stopped");
    assert.equal(counter.bytes(), 400);
  });
});
