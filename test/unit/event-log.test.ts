import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type EventLog,
  listLogFiles,
  openEventLog,
  type LogLine,
  type EventLogOptions,
  SERIALISE_SLICE_LINES,
} from "../../src/state/event-log.ts";
import { EVENT_LOG_NAME } from "../../src/state/state-paths.ts";
import { exitRegistry } from "../../src/state/exit-flush.ts";
import type { StoreWarning } from "../../src/state/json-store.ts";
import { freshDir, runWorker } from "../helpers/temp-and-workers.ts";

const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKER = join(REPOSITORY_ROOT, "test", "fixtures", "store-worker.ts");
const FIXED_NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
/** A long debounce so only explicit flushes write during a test. */
const NO_AUTOMATIC_FLUSH_MS = 60_000;

function options(dir: string, overrides: Partial<EventLogOptions> = {}): EventLogOptions {
  return { dir, flushDelayMs: NO_AUTOMATIC_FLUSH_MS, now: () => FIXED_NOW, ...overrides };
}

function readLines(file: string): LogLine[] {
  const text = readFileSync(file, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), "the file ends on a line boundary");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as LogLine);
}

describe("openEventLog: lines", () => {
  it("writes one JSON line per event with v, ts and type, in append order, only when flushed", async () => {
    const dir = freshDir("auto-router-events");
    const log = openEventLog(options(dir));
    log.append({
      type: "decision",
      requestId: "123e4567-e89b-12d3-a456-426614174000",
      routeId: "subscription-swe",
      data: { target: "claude-sonnet-4-6" },
    });
    log.append({ type: "result", ts: "2024-12-31T23:59:59.000Z", data: { ok: true } });
    assert.equal(existsSync(log.path), false, "append() only buffers");
    await log.flush();
    assert.equal(log.path, join(dir, EVENT_LOG_NAME));
    assert.deepEqual(readLines(log.path), [
      {
        v: 3,
        type: "decision",
        ts: "2025-01-02T03:04:05.000Z",
        requestId: "123e4567-e89b-12d3-a456-426614174000",
        routeId: "subscription-swe",
        data: { target: "claude-sonnet-4-6" },
      },
      { v: 3, type: "result", ts: "2024-12-31T23:59:59.000Z", data: { ok: true } },
    ]);
    await log.close();
  });

  it("writes at process exit the events of a request still in flight when the log closed", async () => {
    const dir = freshDir("auto-router-events");
    const warnings: StoreWarning[] = [];
    const log = openEventLog(options(dir, { onWarning: (warning) => warnings.push(warning) }));
    const request = { requestId: "123e4567-e89b-12d3-a456-426614174000", routeId: "main" };
    log.append({ type: "decision", ...request, data: { target: "a/1" } });
    await log.close();
    log.append({ type: "final", ...request, data: { outcome: "success" } });
    // What the process's exit hook does (exit-flush.ts): every registered log with work left writes it synchronously.
    for (const participant of exitRegistry().participants) if (participant.hasPendingWork()) participant.flushSync();
    assert.deepEqual(
      readLines(log.path).map((line) => line.type),
      ["decision", "final"],
    );
    assert.deepEqual(warnings, []);
  });

  it("never lets an API key in data.message or a secret header reach the file", async () => {
    const dir = freshDir("auto-router-events");
    const key = ["sk-ant-api03", "Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7"].join("-");
    const log = openEventLog(options(dir));
    log.append({
      type: "attempt",
      data: { message: `401 invalid x-api-key ${key}`, headers: { authorization: `Bearer ${key}` } },
    });
    await log.close();
    const text = readFileSync(log.path, "utf8");
    assert.ok(!text.includes(key), text);
    assert.ok(!text.includes("Zx8Yw7Vu6Ts5"), text);
    assert.match(text, /\[REDACTED\]/);
  });

  it("flushes on its own once maxBufferedEvents events are buffered", async () => {
    const dir = freshDir("auto-router-events");
    const log = openEventLog(options(dir, { maxBufferedEvents: 3 }));
    for (let index = 0; index < 3; index += 1) log.append({ type: "tick", data: { index } });
    // Real file I/O: wait (bounded, 5 s) for the early flush that the third append started to land. The file can
    // exist before its content is written, so wait for the lines, not for the file.
    const linesNow = () => (existsSync(log.path) ? readLines(log.path).length : 0);
    for (let waited = 0; waited < 1000 && linesNow() < 3; waited += 1) await sleep(5);
    assert.equal(linesNow(), 3);
    await log.close();
  });

  it("creates the directory with mode 0700 and the log with mode 0600", async () => {
    const dir = join(freshDir("auto-router-events"), "logs");
    const log = openEventLog(options(dir));
    log.append({ type: "tick", data: {} });
    await log.close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(log.path).mode & 0o777, 0o600);
  });

  it("restricts a pre-existing 0644 log to mode 0600 when it appends to it", async () => {
    const dir = freshDir("auto-router-events");
    writeFileSync(join(dir, EVENT_LOG_NAME), "");
    chmodSync(join(dir, EVENT_LOG_NAME), 0o644);
    const log = openEventLog(options(dir));
    log.append({ type: "tick", data: {} });
    await log.close();
    assert.equal(statSync(log.path).mode & 0o777, 0o600);
    assert.equal(readLines(log.path).length, 1);
  });

  it("reads an event's data once the turn that appended it is over, not long after at the flush", async () => {
    // A busy gateway's event data dies young this way instead of waiting for the flush in the old generation.
    const dir = freshDir("auto-router-events");
    const log = openEventLog(options(dir));
    const data = { routeId: "main", requestedRouteId: "main", intent: "general" };
    log.append({ type: "decision", requestId: "r1", sessionId: "s1", routeId: "main", data });
    await new Promise((resolve) => setImmediate(resolve));
    data.intent = "changed after the turn";
    await log.flush();
    const [line] = readLines(log.path);
    assert.equal(line!.data.intent, "general", "serialised at the end of the turn");
    await log.close();
  });

  it("reads an event's data at a flush in the same turn, not when the request appends it", async () => {
    const dir = freshDir("auto-router-events");
    const log = openEventLog(options(dir));
    let reads = 0;
    const data = {
      routeId: "main",
      requestedRouteId: "main",
      intent: "general",
      get hints() {
        reads += 1;
        return [];
      },
    };
    log.append({ type: "decision", requestId: "r1", sessionId: "s1", routeId: "main", data });
    assert.equal(reads, 0, "append() only keeps the data");
    await log.flush();
    assert.equal(reads, 1);
    const [line] = readLines(log.path);
    assert.deepEqual(line!.data, { routeId: "main", intent: "general" }, "compacted as v2 writes it");
    await log.close();
  });

  it("leaves out a line that cannot be serialised, with a warning naming its type, and writes the others", async () => {
    const dir = freshDir("auto-router-events");
    const warnings: StoreWarning[] = [];
    const log = openEventLog(options(dir, { onWarning: (warning) => warnings.push(warning) }));
    log.append({ type: "before", data: { n: 1 } });
    log.append({ type: "broken", data: { n: 1n } });
    log.append({ type: "after", data: { n: 2 } });
    await log.close();
    assert.deepEqual(
      readLines(log.path).map((line) => line.type),
      ["before", "after"],
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /an event of type broken could not be serialised/);
  });

  it("warns once and keeps accepting events when the directory cannot be created", async () => {
    const dir = freshDir("auto-router-events");
    writeFileSync(join(dir, "blocker"), "");
    const warnings: StoreWarning[] = [];
    const log = openEventLog(options(join(dir, "blocker", "logs"), { onWarning: (warning) => warnings.push(warning) }));
    log.append({ type: "tick", data: {} });
    await log.flush();
    log.append({ type: "tick", data: {} });
    await log.flush();
    log.flushSync();
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    await log.close();
  });
});

describe("openEventLog: a flush shares the event loop", () => {
  const EVENTS = 200;
  /** Events whose data counts how many of them were serialised so far (toJSON runs at serialisation). */
  function countingEvents(log: EventLog): { serialised: () => number } {
    let serialised = 0;
    for (let index = 0; index < EVENTS; index++)
      log.append({ type: "tick", data: { index, counted: { toJSON: () => ++serialised } } });
    return { serialised: () => serialised };
  }

  it("serialises a large flush in slices, letting other work run between them, and writes every line in order", async () => {
    const dir = freshDir("auto-router-events");
    const log = openEventLog(options(dir, { maxBufferedEvents: 10_000 }));
    const counter = countingEvents(log);
    let serialisedWhenOtherWorkRan = -1;
    setImmediate(() => (serialisedWhenOtherWorkRan = counter.serialised()));
    await log.flush();
    assert.equal(counter.serialised(), EVENTS);
    assert.equal(serialisedWhenOtherWorkRan, SERIALISE_SLICE_LINES, "other work ran after the first slice");
    assert.deepEqual(
      readLines(log.path).map((line) => (line.data as { index: number }).index),
      Array.from({ length: EVENTS }, (_, index) => index),
    );
    await log.close();
  });

  it("an exit flush during a sliced flush writes each line once, in order", async () => {
    const dir = freshDir("auto-router-events");
    const log = openEventLog(options(dir, { maxBufferedEvents: 10_000 }));
    countingEvents(log);
    const flushed = log.flush();
    await new Promise((resolve) => setImmediate(resolve));
    log.append({ type: "tick", data: { index: EVENTS } });
    log.flushSync();
    await flushed;
    await log.close();
    assert.deepEqual(
      readLines(log.path).map((line) => (line.data as { index: number }).index),
      Array.from({ length: EVENTS + 1 }, (_, index) => index),
    );
  });
});

describe("openEventLog: rotation", () => {
  for (const [how, flush] of [
    ["", (log: EventLog) => log.flush()],
    [" (the exit hook's synchronous write)", (log: EventLog) => log.flushSync()],
  ] as const) {
    it(`rotates by size, keeps keepFiles rotated files, and listLogFiles returns them oldest first${how}`, async () => {
      const dir = freshDir("auto-router-events");
      const log = openEventLog(options(dir, { maxBytes: 400, keepFiles: 2 }));
      for (let index = 0; index < 40; index += 1) {
        log.append({ type: "tick", data: { index, padding: "p".repeat(60) } });
        await flush(log);
      }
      await log.close();
      const files = listLogFiles(dir);
      assert.deepEqual(files, [
        join(dir, "auto-router.events.2.jsonl"),
        join(dir, "auto-router.events.1.jsonl"),
        join(dir, EVENT_LOG_NAME),
      ]);
      assert.equal(existsSync(join(dir, "auto-router.events.3.jsonl")), false);
      const indexes = files.flatMap((file) => readLines(file).map((event) => event.data.index as number));
      assert.deepEqual(
        indexes,
        [...indexes].sort((left, right) => left - right),
        "oldest-first order",
      );
      assert.equal(indexes.at(-1), 39);
      for (const file of files) assert.ok(statSync(file).size <= 400);
    });

    it(`makes a 0644 live file it rotates, and the rotated files it keeps, 0600${how}`, async () => {
      const dir = freshDir("auto-router-events");
      writeFileSync(join(dir, EVENT_LOG_NAME), "x".repeat(500));
      writeFileSync(join(dir, "auto-router.events.1.jsonl"), "y".repeat(500));
      for (const name of [EVENT_LOG_NAME, "auto-router.events.1.jsonl"]) chmodSync(join(dir, name), 0o644);
      const log = openEventLog(options(dir, { maxBytes: 400, keepFiles: 2 }));
      log.append({ type: "tick", data: {} });
      await flush(log);
      await log.close();
      const modes = listLogFiles(dir).map((file) => (statSync(file).mode & 0o777).toString(8));
      assert.deepEqual(modes, ["600", "600", "600"]);
    });
  }

  it("writes one flush whole into a fresh file even when it is larger than maxBytes (lines are never split across files)", async () => {
    const dir = freshDir("auto-router-events");
    const log = openEventLog(options(dir, { maxBytes: 400 }));
    for (let index = 0; index < 10; index += 1) log.append({ type: "tick", data: { index, padding: "p".repeat(60) } });
    await log.flush();
    await log.close();
    assert.deepEqual(listLogFiles(dir), [join(dir, EVENT_LOG_NAME)]);
    assert.equal(readLines(join(dir, EVENT_LOG_NAME)).length, 10);
  });

  it("does not rotate a second time when another writer rotated the file first", async () => {
    const dir = freshDir("auto-router-events");
    const line = `${JSON.stringify({ v: 1, type: "old", ts: "2025-01-01T00:00:00.000Z", data: { padding: "o".repeat(100) } })}\n`;
    writeFileSync(join(dir, EVENT_LOG_NAME), line.repeat(8)); // close to the 1000-byte limit
    const first = openEventLog(options(dir, { maxBytes: 1000 }));
    const second = openEventLog(options(dir, { maxBytes: 1000 }));
    first.append({ type: "first", data: { padding: "f".repeat(100) } });
    second.append({ type: "second", data: { padding: "s".repeat(100) } });
    await Promise.all([first.flush(), second.flush()]);
    await Promise.all([first.close(), second.close()]);
    assert.deepEqual(listLogFiles(dir), [join(dir, "auto-router.events.1.jsonl"), join(dir, EVENT_LOG_NAME)]);
    assert.equal(readLines(join(dir, "auto-router.events.1.jsonl")).length, 8);
    assert.deepEqual(
      readLines(join(dir, EVENT_LOG_NAME))
        .map((event) => event.type)
        .sort(),
      ["first", "second"],
    );
  });

  it("lists rotated files by number, not by name, and ignores unrelated files", () => {
    const dir = freshDir("auto-router-events");
    for (const name of [
      EVENT_LOG_NAME,
      "auto-router.events.1.jsonl",
      "auto-router.events.10.jsonl",
      "auto-router.events.3.jsonl",
      "auto-router.events.x.jsonl",
      "other.jsonl",
      "auto-router.usage.json",
    ]) {
      writeFileSync(join(dir, name), "");
    }
    assert.deepEqual(
      listLogFiles(dir).map((file) => file.slice(dir.length + 1)),
      ["auto-router.events.10.jsonl", "auto-router.events.3.jsonl", "auto-router.events.1.jsonl", EVENT_LOG_NAME],
    );
    assert.deepEqual(listLogFiles(join(dir, "missing")), []);
  });
});

describe("openEventLog: several processes", () => {
  for (const [description, env] of [
    ["without rotation", {}],
    ["while rotating every few kilobytes", { MAX_BYTES: "20000", KEEP_FILES: "1000" }],
  ] as Array<[string, Record<string, string>]>) {
    it(`keeps every line whole when two processes append 500 events each at once, ${description}`, async () => {
      const dir = freshDir("auto-router-events");
      const barrier = join(dir, "barrier");
      mkdirSync(barrier);
      const logDir = join(dir, "logs");
      const results = await Promise.all(
        ["a1", "b2"].map((id) =>
          runWorker(WORKER, [logDir, "500", id, "append-events"], { ...env, BARRIER_DIR: barrier, BARRIER_COUNT: "2" }),
        ),
      );
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      const events = listLogFiles(logDir).flatMap(readLines); // JSON.parse throws on any torn line
      assert.equal(events.length, 1000);
      for (const workerId of ["a1", "b2"]) {
        const indexes = events
          .filter((event) => event.data.workerId === workerId)
          .map((event) => event.data.index as number);
        assert.deepEqual(
          indexes,
          Array.from({ length: 500 }, (_, index) => index),
          `${workerId} lines in order`,
        );
      }
    });
  }

  it("writes buffered events from the process exit hook when the process ends without flushing", async () => {
    const dir = freshDir("auto-router-events");
    const result = await runWorker(WORKER, [dir, "1", "leaver", "append-and-exit"]);
    assert.equal(result.code, 0, result.stderr);
    const events = readLines(join(dir, EVENT_LOG_NAME));
    assert.deepEqual(
      events.map((event) => [event.type, event.data.workerId]),
      [["exit-probe", "leaver"]],
    );
    assert.deepEqual(readdirSync(dir), [EVENT_LOG_NAME]);
  });

  it("writes no line twice when a full disk cuts an append short and the retry gets the space", {
    skip: process.platform === "win32" && "ulimit is a POSIX shell's",
  }, () => {
    const dir = freshDir("auto-router-events");
    // A 16 KiB file size limit cuts the flush of 60 lines of ~400 bytes short, as a full disk does (EFBIG for ENOSPC);
    // the worker then moves the full log aside and flushes again into a new file.
    const result = spawnSync(
      "bash",
      ["-c", `ulimit -f 16 && exec "${process.execPath}" --import tsx "${WORKER}" "${dir}" 60 cut append-past-limit`],
      { cwd: REPOSITORY_ROOT, encoding: "utf8" },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /could not append to the event log: EFBIG/);
    const indexes: number[] = [];
    const malformed: string[] = [];
    for (const name of ["full.jsonl", EVENT_LOG_NAME])
      for (const line of readFileSync(join(dir, name), "utf8").split("\n").filter(Boolean)) {
        try {
          indexes.push((JSON.parse(line) as LogLine).data.index as number);
        } catch {
          malformed.push(`${name}: ${line.slice(0, 40)}`);
        }
      }
    assert.deepEqual(
      indexes,
      Array.from({ length: 60 }, (_, index) => index),
      "every line once, in order",
    );
    assert.equal(malformed.length, 1, "only the line the limit cut short");
    assert.match(malformed[0]!, /^full\.jsonl: /);
  });
});
