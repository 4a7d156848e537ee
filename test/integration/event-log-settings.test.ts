// The routes file's `eventLog` settings reach the event log through real pi: `enabled: false` writes no log while
// requests are still served, counted and explained, and `maxBytes` / `keepFiles` rotate it and bound its files. Edits
// of them apply while pi runs (`/auto-router reload`, or the file's watcher).
import assert from "node:assert/strict";
import { chmodSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { readEventLogFile, until } from "../helpers/event-log.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const PRICED = { input: 100, output: 100, cacheRead: 100, cacheWrite: 100 };
const ROUTE = { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } };

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function servedHarness(eventLog?: Record<string, unknown>): Promise<SdkHarness> {
  harness = await createSdkHarness({
    targets: [{ provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] }],
    routes: eventLog ? { eventLog, routes: ROUTE } : { routes: ROUTE },
  });
  await harness.setModel("auto-router", "main");
  const { fauxAssistantMessage } = harness.fauxHelpers;
  harness.faux("mock-a").setResponses(Array.from({ length: 4 }, (_, index) => fauxAssistantMessage(`answer ${index}`)));
  return harness;
}

const stateDir = (h: SdkHarness) => join(h.agentDir, "extensions");
const eventLogFiles = (h: SdkHarness) =>
  readdirSync(stateDir(h))
    .filter((name) => /^auto-router\.events(\.\d+)?\.jsonl$/.test(name))
    .sort();
/** The final events of every file of the log (live and rotated). */
const finals = (h: SdkHarness) =>
  eventLogFiles(h)
    .flatMap((name) => readEventLogFile(join(stateDir(h), name)))
    .filter((event) => event.type === "final");
/** pi quits: the extension flushes its stores and its log (the CLI emits this; the SDK's dispose does not). */
const quit = (h: SdkHarness) => h.session.extensionRunner.emit({ type: "session_shutdown", reason: "quit" });

describe("the routes file's eventLog settings", () => {
  it("by default, logs each served request", async () => {
    const h = await servedHarness();
    await h.prompt("one");
    await quit(h);
    assert.deepEqual(eventLogFiles(h), ["auto-router.events.jsonl"]);
    assert.equal(finals(h).length, 1);
  });

  it("with enabled: false, writes no event log while requests are served, counted and explained", async () => {
    const h = await servedHarness({ enabled: false });
    await h.prompt("one");
    await h.prompt("two");
    const answers = h.chat().filter((message: any) => message.role === "assistant");
    assert.deepEqual(
      answers.map((message: any) => [message.provider, message.stopReason]),
      [
        ["mock-a", "stop"],
        ["mock-a", "stop"],
      ],
    );
    const explained = await h.command("/auto-router explain");
    assert.match(explained, /mock-a\/model-a/, "explain reads the last decision from memory");
    await quit(h);
    assert.ok(existsSync(join(stateDir(h), "auto-router.usage.json")), "the usage ledger is still written");
    assert.deepEqual(eventLogFiles(h), [], "no event log file");
  });

  it("rotates at maxBytes and keeps keepFiles rotated files", async () => {
    // A served request writes ~0.9 KB here: each one's lines, flushed on their own, start a new file.
    const h = await servedHarness({ maxBytes: 1_200, keepFiles: 1 });
    const logged = new Set<string>();
    for (const prompt of ["one", "two", "three"]) {
      await h.prompt(prompt);
      await until(() => finals(h).some((event) => !logged.has(event.requestId)), `the final line of "${prompt}"`);
      for (const event of finals(h)) logged.add(event.requestId);
    }
    assert.equal(logged.size, 3);
    assert.deepEqual(eventLogFiles(h), ["auto-router.events.1.jsonl", "auto-router.events.jsonl"]);
    for (const name of eventLogFiles(h)) {
      const inFile = readEventLogFile(join(stateDir(h), name)).filter((event) => event.type === "final");
      assert.equal(inFile.length, 1, `${name} holds one request`);
    }
  });

  it("applies edits while pi runs: off, on again, then new rotation limits, and says no restart is needed", async () => {
    const h = await servedHarness();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses(Array.from({ length: 5 }, (_, index) => fauxAssistantMessage(`answer ${index}`)));
    const reload = async (eventLog: Record<string, unknown>) => {
      writeFileSync(join(stateDir(h), ROUTES_FILE_NAME), JSON.stringify({ eventLog, routes: ROUTE }));
      return h.command("/auto-router reload");
    };
    await h.prompt("one");
    await until(() => finals(h).length === 1, "the first request's final line");

    assert.match(await reload({ enabled: false }), /^reloaded .*: 1 route$/m, "nothing waits for a restart");
    await h.prompt("two");
    assert.match(await reload({}), /^reloaded .*: 1 route$/m);
    await h.prompt("three");
    await until(() => finals(h).length >= 2, "the third request's final line");
    // Written after the second request's lines would have been: the log holds the first and the third alone.
    assert.equal(finals(h).length, 2);

    await reload({ maxBytes: 1_200, keepFiles: 1 });
    for (const prompt of ["four", "five"]) {
      const before = new Set(finals(h).map((event) => event.requestId));
      await h.prompt(prompt);
      await until(() => finals(h).some((event) => !before.has(event.requestId)), `the final line of "${prompt}"`);
    }
    await quit(h);
    assert.deepEqual(eventLogFiles(h), ["auto-router.events.1.jsonl", "auto-router.events.jsonl"]);
    for (const name of eventLogFiles(h)) {
      const inFile = readEventLogFile(join(stateDir(h), name)).filter((event) => event.type === "final");
      assert.equal(inFile.length, 1, `${name} holds one request: rotated at 1,200 bytes, one rotated file kept`);
    }
  });

  it("makes a log older than the router private (0600) when its first append rotates it", async () => {
    const logDirectory = freshDir("auto-router-rotate-mode");
    const old = join(logDirectory, "auto-router.events.jsonl");
    writeFileSync(old, `${JSON.stringify({ v: 3, type: "warning", ts: 0, data: {} })}\n`.repeat(100));
    chmodSync(old, 0o644);
    try {
      harness = await createSdkHarness({
        targets: [{ provider: "mock-a", models: [{ id: "model-a", cost: PRICED }] }],
        routes: { eventLog: { maxBytes: 2_000 }, routes: ROUTE },
        env: { AUTO_ROUTER_LOG_DIR: logDirectory },
      });
      await harness.setModel("auto-router", "main");
      harness.faux("mock-a").setResponses([harness.fauxHelpers.fauxAssistantMessage("answer")]);
      await harness.prompt("one");
      await quit(harness);
      const modes = ["auto-router.events.1.jsonl", "auto-router.events.jsonl"].map((name) =>
        (statSync(join(logDirectory, name)).mode & 0o777).toString(8),
      );
      assert.deepEqual(modes, ["600", "600"]);
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });
});
