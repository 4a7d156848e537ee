// The event log as the routes file's `eventLog` says, turned off and on again while lines are still being written.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { defaultConfig } from "../../src/config/defaults.ts";
import type { RouterConfig } from "../../src/config/schema.ts";
import { ConfiguredEventLog } from "../../src/state/configured-event-log.ts";
import { SERIALISE_SLICE_LINES } from "../../src/state/event-log.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

const linesOf = (path: string): Array<{ data: { n: number } }> =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));

/** A log as the routes file says (`enabled` switched by `turn`), holding `waiting` lines not yet written. */
function logWithWaitingLines(waiting: number) {
  const base = defaultConfig();
  let config: RouterConfig = base;
  const log = new ConfiguredEventLog(() => config, {
    dir: freshDir("auto-router-configured-log"),
    flushDelayMs: 60_000,
  });
  for (let n = 0; n < waiting; n++) log.append({ type: "probe", data: { n } });
  const turn = (enabled: boolean, n: number) => {
    config = { ...base, eventLog: { enabled } };
    log.append({ type: "probe", data: { n } }); // the next event applies the edit
  };
  return { log, turn };
}

describe("ConfiguredEventLog", () => {
  it("keeps the lines in order when the log is turned off and on again before its last lines were written", async () => {
    // Several slices' worth of lines wait when the log is turned off: its closing flush serialises them over several
    // turns of the event loop, while the reopened log's one line needs one.
    const waiting = SERIALISE_SLICE_LINES * 6;
    const { log, turn } = logWithWaitingLines(waiting);
    turn(false, -1); // not written: the log is off
    turn(true, waiting);
    await log.flush();
    await log.close();
    // Whatever is still under way without the fix gets its time to finish before the file is read.
    for (let tries = 0; tries < 100 && linesOf(log.path).length < waiting + 1; tries++) await sleep(20);
    const written = linesOf(log.path).map((line) => line.data.n);
    assert.deepEqual(
      written,
      Array.from({ length: waiting + 1 }, (_, n) => n),
    );
  });

  it("flushes and closes only once the log turned off has written what was waiting", async () => {
    const waiting = SERIALISE_SLICE_LINES * 3;
    const { log, turn } = logWithWaitingLines(waiting);
    turn(false, -1);
    await log.flush();
    assert.equal(linesOf(log.path).length, waiting, "flush() waited for the closing log");
    turn(true, waiting);
    turn(false, -1);
    await log.close();
    assert.deepEqual(
      linesOf(log.path).map((line) => line.data.n),
      Array.from({ length: waiting + 1 }, (_, n) => n),
      "close() waited for the log turned off last",
    );
  });
});
