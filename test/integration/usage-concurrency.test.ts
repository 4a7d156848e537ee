// Several node processes record usage into one ledger and set budgets, as several pi windows do. The earlier
// implementation rewrote the whole stats file from each process's memory and lost 70-75% of spend updates.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { emptyLimits, parseLimits, setLimitOperation } from "../../src/budget/budget-limits.ts";
import { parseLedger, providerSpend } from "../../src/budget/usage-ledger.ts";
import { openJsonStore } from "../../src/state/json-store.ts";
import { stateFile } from "../../src/state/state-paths.ts";
import { runWorker } from "../helpers/temp-and-workers.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKER = join(REPOSITORY_ROOT, "test", "fixtures", "usage-worker.ts");
const KEYS = { day: "2025-01-31", month: "2025-01" };

describe("usage ledger shared by several processes", () => {
  it("keeps every usage event when four processes record 250 each into the same ledger at once", async () => {
    const dir = freshDir("auto-router-usage");
    const barrier = join(dir, "barrier");
    mkdirSync(barrier);
    const workers = ["w1", "w2", "w3", "w4"];
    const results = await Promise.all(
      workers.map((id) => runWorker(WORKER, [dir, "250", id], { BARRIER_DIR: barrier, BARRIER_COUNT: "4" })),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const ledger = parseLedger(JSON.parse(readFileSync(stateFile(dir, "usage"), "utf8")));
    const spend = providerSpend(ledger, KEYS, "shared");
    assert.equal(spend.day.requests, 1000);
    assert.equal(spend.month.requests, 1000);
    assert.equal(spend.day.input, 3000);
    assert.equal(spend.day.output, 2000);
    assert.equal(spend.day.costUsd, 0.1);
    for (const id of workers) assert.equal(ledger.days[KEYS.day]!.shared![`model-${id}`]!.requests, 250, id);
  });

  it("shows a budget set by one process to another process, next to its own unwritten change", async () => {
    const dir = freshDir("auto-router-limits");
    const mine = openJsonStore({
      file: stateFile(dir, "budget-limits"),
      defaults: emptyLimits,
      parse: parseLimits,
      flushDelayMs: 60_000,
      refreshIntervalMs: 0,
    });
    mine.update(setLimitOperation("other", "monthly", 9, 1));
    const setter = await runWorker(WORKER, [dir, "7", "setter", "set-budget"]);
    assert.equal(setter.code, 0, setter.stderr);
    const reader = await runWorker(WORKER, [dir, "0", "reader", "read-budget"]);
    assert.equal(reader.code, 0, reader.stderr);
    assert.deepEqual(JSON.parse(reader.stdout), { daily: { amount: 7, source: "command" } });
    await mine.refresh();
    assert.equal(mine.read().providers.shared?.daily, 7);
    assert.equal(mine.read().providers.other?.monthly, 9);
    await mine.close();
    const onDisk = parseLimits(JSON.parse(readFileSync(stateFile(dir, "budget-limits"), "utf8")));
    assert.deepEqual([onDisk.providers.shared?.daily, onDisk.providers.other?.monthly], [7, 9]);
  });
});
