// Several real node processes share one state file, as several pi windows do. The earlier implementation let each
// process rewrite the whole file from memory and lost 70-75% of the updates; these tests fail on any lost update.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openJsonStore } from "../../src/state/json-store.ts";
import { counterStoreOptions, type CounterState } from "../fixtures/store-worker.ts";
import { freshDir, runWorker } from "../helpers/temp-and-workers.ts";

const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKER = join(REPOSITORY_ROOT, "test", "fixtures", "store-worker.ts");

function readState(file: string): CounterState {
  return JSON.parse(readFileSync(file, "utf8")) as CounterState;
}

describe("state store shared by several processes", () => {
  it("keeps every increment when four processes apply 250 each to the same file at the same time", async () => {
    const dir = freshDir("auto-router-concurrency");
    const file = join(dir, "auto-router.counter.json");
    const barrier = join(dir, "barrier");
    mkdirSync(barrier);
    const workers = ["w1", "w2", "w3", "w4"];
    const results = await Promise.all(
      workers.map((id) =>
        runWorker(WORKER, [file, "250", id], { BARRIER_DIR: barrier, BARRIER_COUNT: String(workers.length) }),
      ),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const state = readState(file);
    assert.equal(state.counter, 1000);
    assert.deepEqual(state.perProcess, { w1: 250, w2: 250, w3: 250, w4: 250 });
  });

  it("shows a budget set by another process after refresh(), with this process's queued update on top", async () => {
    const dir = freshDir("auto-router-concurrency");
    const file = join(dir, "auto-router.counter.json");
    const store = openJsonStore({ ...counterStoreOptions(file), flushDelayMs: 60_000, refreshIntervalMs: 0 });
    store.update((state) => ({ ...state, counter: state.counter + 1 }));
    const result = await runWorker(WORKER, [file, "42", "setter", "set-budget"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(store.read().budget, null);
    await store.refresh();
    assert.equal(store.read().budget, 42);
    assert.equal(store.read().counter, 1);
    await store.close();
    assert.deepEqual(readState(file), { counter: 1, perProcess: {}, budget: 42 });
  });

  it("writes updates still queued when the process calls process.exit()", async () => {
    const dir = freshDir("auto-router-concurrency");
    const file = join(dir, "auto-router.counter.json");
    const result = await runWorker(WORKER, [file, "7", "leaver", "update-and-exit"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readState(file).counter, 7);
  });
});
