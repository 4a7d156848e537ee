// A log whose last line was cut short (a crash mid-append, a damaged file) must not swallow the next line appended
// to it: before the fix the first new record was glued onto the fragment and lost to every reader (found by
// reliability/corruption.ts).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { openEventLog } from "../../src/state/event-log.ts";
import { EVENT_LOG_NAME } from "../../src/state/state-paths.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const intactTypes = (text: string) =>
  text.split("\n").flatMap((line) => {
    try {
      return [JSON.parse(line).type as string];
    } catch {
      return [];
    }
  });

it("starts a new line when the log ends in a line cut short, so the next record stays intact", async () => {
  const dir = freshDir("auto-router-torn");
  writeFileSync(
    join(dir, EVENT_LOG_NAME),
    `{"v":1,"type":"old","ts":"2024-01-01T00:00:00.000Z","data":{}}\n{"v":1,"type":"cut`,
  );
  const log = openEventLog({ dir });
  log.append({ type: "decision", requestId: "r1", data: {} });
  log.append({ type: "final", requestId: "r1", data: {} });
  await log.close();
  assert.deepEqual(intactTypes(readFileSync(join(dir, EVENT_LOG_NAME), "utf8")), ["old", "decision", "final"]);
});

it("adds no blank line when the log already ends with a complete line", async () => {
  const dir = freshDir("auto-router-torn");
  writeFileSync(join(dir, EVENT_LOG_NAME), `{"v":1,"type":"old","ts":"2024-01-01T00:00:00.000Z","data":{}}\n`);
  const log = openEventLog({ dir });
  log.append({ type: "decision", requestId: "r1", data: {} });
  await log.close();
  const text = readFileSync(join(dir, EVENT_LOG_NAME), "utf8");
  assert.equal(text.split("\n").filter((line) => line === "").length, 1, "only the final newline");
  assert.deepEqual(intactTypes(text), ["old", "decision"]);
});
