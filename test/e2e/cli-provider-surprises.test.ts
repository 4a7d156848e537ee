// The real pi CLI against the HTTP emulators, for what real providers do that a first user runs into: an error record
// inside a 200 stream, an Anthropic stream that drops mid-answer, a key command that fails, secrets in errors that
// are passed through to pi, and a print-mode request that has to wait for a cooling target.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type EmulatedAgent, startEmulatedAgent, TWO_OPENAI_PROVIDERS } from "../helpers/emulated-agent.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";

const target = (key: string) => ({ provider: key.split("/")[0], modelId: key.split("/")[1] });

/** The events as the readers expand them (a request's attempts, results and usage ride on its final line). */
const readEvents = (agentDir: string): any[] => readLoggedEvents(agentDir);

/** `Say hi` on route chain through the pi CLI, served by mock-b ("B served."): the failed attempts' result events. */
async function servedByBAfterFailures(agentDir: string): Promise<any[]> {
  const run = await runPi({ agentDir, args: ["--model", "auto-router/chain", "-p", "Say hi"] });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "B served.");
  return readEvents(agentDir).filter((event) => event.type === "result" && event.data.outcome === "failed");
}

describe("pi CLI: OpenAI in-stream server_error chunk", () => {
  let failing: Emulator;
  let healthy: Emulator;
  let dir: EmulatedAgent<"A" | "B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: TWO_OPENAI_PROVIDERS,
      routes: {
        routes: { chain: { sortBy: "config", targets: [target("mock-a/model-a"), target("mock-b/model-b")] } },
      },
    });
    ({ A: failing, B: healthy } = dir.emulators);
  });
  after(() => dir?.stop());

  it("classifies the chunk as a server failure, cools the target down for that kind and fails over", async () => {
    failing.enqueue({
      streamError: {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
      },
    });
    healthy.enqueue({ text: "B served." });
    const failed = await servedByBAfterFailures(dir.agentDir);
    // No usage on a failure before the commit point (pi-ai's zeros are no reading), as the gateway logs it.
    assert.deepEqual(
      failed.map((event) => [event.data.target, event.data.failureKind, event.data.usage]),
      [["mock-a/model-a", "server", undefined]],
    );
    const cooldowns = JSON.parse(readFileSync(join(dir.agentDir, "extensions", "auto-router.cooldowns.json"), "utf8"));
    assert.deepEqual(
      Object.values(cooldowns.entries).map((entry: any) => entry.kind),
      ["server"],
    );
  });
});

describe("pi CLI: Responses streams pi-ai cannot read", () => {
  let dir: EmulatedAgent<"A" | "B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "responses", B: "openai" },
      providers: {
        "resp-a": { emulator: "A", apiKey: "sk-resp-a", models: ["model-r"] },
        "resp-a2": { emulator: "A", apiKey: "sk-resp-a2", models: ["model-r"] },
        "mock-b": { emulator: "B", apiKey: "sk-mock-b", models: ["model-b"] },
      },
      routes: {
        routes: {
          chain: {
            sortBy: "config",
            targets: [target("resp-a/model-r"), target("resp-a2/model-r"), target("mock-b/model-b")],
          },
        },
      },
    });
  });
  after(() => dir?.stop());

  it("fails over from each before the answer started and logs why, in words that name the target", async () => {
    const event = (type: string, data: Record<string, unknown>) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const created = event("response.created", {
      response: { id: "r1", object: "response", status: "in_progress", output: [] },
    });
    const item = { id: "i1", type: "message", role: "assistant", status: "in_progress", content: [] };
    // `"delta"` left out of the first output_text.delta: pi-ai hands it on as a delta of undefined (and adds
    // "undefined" to its own text).
    dir.emulators.A.enqueue({
      body: [
        created,
        event("response.output_item.added", { output_index: 0, item }),
        event("response.content_part.added", {
          item_id: "i1",
          output_index: 0,
          content_index: 0,
          part: { type: "output_text", text: "" },
        }),
        event("response.output_text.delta", { item_id: "i1", output_index: 0, content_index: 0 }),
      ].join(""),
    });
    // An output item added without its item: pi-ai's own code throws reading it, in JavaScript's words.
    dir.emulators.A.enqueue({ body: [created, event("response.output_item.added", { output_index: 0 })].join("") });
    dir.emulators.B.enqueue({ text: "B served." });
    const failed = await servedByBAfterFailures(dir.agentDir);
    assert.deepEqual(
      failed.map((event) => [event.data.target, event.data.failureKind, event.data.message]),
      [
        [
          "resp-a/model-r",
          "unknown",
          "resp-a/model-r: the target sent an event the router could not read (a text_delta event without its delta)",
        ],
        [
          "resp-a2/model-r",
          "unknown",
          "resp-a2/model-r: the target sent an answer pi-ai could not read (Cannot read properties of undefined (reading 'type'))",
        ],
      ],
    );
  });
});

describe("pi CLI: an Anthropic stream that drops mid-answer", () => {
  let anthropic: Emulator;
  let dir: EmulatedAgent<"C">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { C: "anthropic" },
      providers: {
        "mock-c": {
          emulator: "C",
          apiKey: "sk-ant-mock-c",
          models: ["model-c"],
          modelOptions: { cost: { input: 3, output: 15, cacheRead: 0, cacheWrite: 0 } },
        },
      },
      routes: { routes: { solo: { sortBy: "config", targets: [target("mock-c/model-c")] } } },
    });
    anthropic = dir.emulators.C;
  });
  after(() => dir?.stop());

  it("records the streamed answer's estimated output, not message_start's 1-token placeholder", async () => {
    anthropic.enqueue({ text: "word ".repeat(120), dropAfterChunks: 100, usage: { input: 40, output: 600 } });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/solo", "-p", "Write a hundred words"],
    });
    assert.equal(run.code, 1, "the cut-off answer ends as an error");
    const usage = readEvents(dir.agentDir).filter((event) => event.type === "usage");
    assert.equal(usage.length, 1);
    assert.equal(usage[0].data.estimated, true);
    assert.equal(usage[0].data.output, 125, "100 streamed words of 5 characters, at 4 characters per token");
    assert.ok(Math.abs(usage[0].data.costUsd - (40 * 3 + 125 * 15) / 1e6) < 1e-12, String(usage[0].data.costUsd));
  });
});

describe("pi CLI print mode: every target failing transiently", () => {
  let a: Emulator;
  let b: Emulator;
  let dir: EmulatedAgent<"A" | "B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: TWO_OPENAI_PROVIDERS,
      // pi's own retry of a route whose every target failed transiently is off: each run is one try of the route.
      settings: { retry: { enabled: false } },
      routes: {
        routes: {
          pair: {
            sortBy: "config",
            failover: { kinds: { server: { cooldownMs: 3_000 }, overloaded: { cooldownMs: 60_000 } } },
            targets: [target("mock-a/model-a"), target("mock-b/model-b")],
          },
        },
      },
    });
    ({ A: a, B: b } = dir.emulators);
  });
  after(() => dir?.stop());

  it("prints one stderr line saying what it waits for and how long, then answers after the wait", async () => {
    a.enqueue({ status: 500 }, { text: "A is back." });
    b.enqueue({ status: 503 });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/pair", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "A is back.");
    const waiting = run.stderr.split("\n").filter((line) => line.includes("waiting"));
    assert.equal(waiting.length, 1, run.stderr);
    // The failures in the words the final error would name them with (pi may retry these): one name per failure.
    assert.match(
      waiting[0]!,
      /^auto-router: every target of route pair failed \(mock-a\/model-a: server error; mock-b\/model-b: overloaded\); waiting [1-3]s for mock-a\/model-a to come back, then trying again$/,
    );
    assert.equal(a.calls.length, 2);
    assert.equal(b.calls.length, 1, "the target resting for a minute is not tried again");
  });

  it("names the resting target beside the one that failed again after the wait, and the wait", async () => {
    // mock-b still rests for its overload (a minute); mock-a fails, is waited for, and fails again.
    a.enqueue({ status: 500 }, { status: 500 });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/pair", "-p", "Say hi"],
    });
    assert.notEqual(run.code, 0);
    assert.equal(a.calls.length, 4, run.stderr);
    assert.equal(b.calls.length, 1, "the resting target is not tried");
    assert.match(
      run.stderr,
      /auto-router: every target of route pair failed \(mock-a\/model-a: server error \(2 attempts\); not tried: mock-b\/model-b: resting \(busy\), back at \d\d:\d\d:\d\d \(in \d+s\)\) after waiting [1-3]s for mock-a\/model-a; pi may retry the route/,
    );
  });
});

describe("pi CLI: a models.json apiKey command that fails", () => {
  let b: Emulator;
  let dir: EmulatedAgent<"B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { B: "openai" },
      providers: {
        // Never listened on: the router must not even try this target.
        "mock-a": {
          baseUrl: "http://127.0.0.1:9/v1",
          api: "openai-completions",
          apiKey: "!printf 'vault-said-7Hq2xK'; exit 3",
          models: [{ id: "model-a" }],
        },
        "mock-b": TWO_OPENAI_PROVIDERS["mock-b"],
      },
      routes: {
        routes: { chain: { sortBy: "config", targets: [target("mock-a/model-a"), target("mock-b/model-b")] } },
      },
    });
    b = dir.emulators.B;
  });
  after(() => dir?.stop());

  it("skips the provider as 'no credentials' with one warning that names it and not the command's output", async () => {
    b.setDefault({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain", "-p", "one", "two"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "B served.");
    assert.equal(b.calls.length, 2, "both prompts were served by mock-b");
    const warnings = run.stderr.split("\n").filter((line) => line.includes("mock-a"));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(warnings[0]!, /^auto-router: warning: provider mock-a has no usable credentials: /);
    assert.doesNotMatch(run.stderr, /vault-said|exit 3|printf/);
    const events = readEvents(dir.agentDir);
    const attempts = events.filter((event) => event.type === "attempt").map((event) => event.data.target);
    assert.deepEqual(attempts, ["mock-b/model-b", "mock-b/model-b"], "mock-a is never counted as an attempt");
    const skipped = events.filter((event) => event.type === "candidates").at(-1).data.skipped;
    assert.deepEqual(
      skipped.map((entry: any) => [entry.key, entry.reason]),
      [["mock-a/model-a", "no-credentials"]],
    );
    assert.match(skipped[0].detail, /could not be resolved/);
  });

  it("says in the first request's explain why the target ranked first was not tried, with its hint intact", async () => {
    b.setDefault({ text: "B served." });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/chain", "-p", "one", "/auto-router explain"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Ranked first: mock-a\/model-a/, run.stderr);
    assert.match(
      run.stderr,
      /^ {2}skipped mock-a\/model-a: no credentials \(its API key could not be resolved\)$/m,
      run.stderr,
    );
    assert.ok(run.stderr.includes('(a "!command" as its apiKey in models.json that failed?)'), run.stderr);
    assert.doesNotMatch(run.stderr, /vault-said|REDACTED/);
  });
});

describe("pi CLI: a provider that echoes its key in an error", () => {
  // Azure-style: 32 hex characters, a shape no redaction pattern knows. Made at run time: no key sits in the repository.
  const KEY = randomBytes(16).toString("hex");
  let a: Emulator;
  let b: Emulator;
  let dir: EmulatedAgent<"A" | "B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: { ...TWO_OPENAI_PROVIDERS, "mock-a": { ...TWO_OPENAI_PROVIDERS["mock-a"], apiKey: KEY } },
      routes: {
        routes: {
          solo: { sortBy: "config", targets: [target("mock-a/model-a")] },
          pair: { sortBy: "config", targets: [target("mock-a/model-a"), target("mock-b/model-b")] },
        },
      },
    });
    ({ A: a, B: b } = dir.emulators);
  });
  after(() => dir?.stop());

  const stateText = () =>
    ["auto-router.events.jsonl", "auto-router.cooldowns.json"]
      .map((name) => join(dir.agentDir, "extensions", name))
      .filter(existsSync)
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");

  it("redacts the key from a 400 that is passed through to pi unchanged otherwise", async () => {
    a.enqueue({ status: 400, errorMessage: `Invalid request for key ${KEY} (header api-key ${KEY})` });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/solo", "-p", "Say hi"] });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /400 Invalid request for key \[REDACTED\]/);
    assert.equal(run.stderr.includes(KEY) || run.stdout.includes(KEY), false, "the key is not in pi's output");
    assert.equal(stateText().includes(KEY), false, "the key is not in the state files");
  });

  it("redacts the key from an error that ends an answer after the commit point (JSON mode)", async () => {
    a.enqueue({
      text: "one two three",
      streamError: { message: `stream broke; Authorization: Bearer ${KEY}`, type: "server_error", afterChunks: 2 },
    });
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/solo", "--mode", "json", "Say hi"],
    });
    const ends = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((event) => event.type === "message_end" && event.message?.role === "assistant");
    assert.equal(ends.at(-1).message.errorMessage, "stream broke; Authorization: Bearer [REDACTED]");
    assert.equal(run.stdout.includes(KEY) || run.stderr.includes(KEY), false, "the key is in no event pi printed");
    // The event log keeps the redacted text (the route's only target does not rest: there is nothing to steer to).
    const cut = readEvents(dir.agentDir)
      .filter((event) => event.type === "result" && event.data.outcome === "failed-after-commit")
      .at(-1);
    assert.equal(cut.data.message, "stream broke; Authorization: Bearer [REDACTED]");
    assert.equal(stateText().includes(KEY), false, "the key is not in the state files");
  });

  it("scrubs the key from an answer that quotes it split across deltas: pi's events, its text and its session", async () => {
    const sessionDir = mkdtempSync(join(dir.agentDir, "sessions-"));
    a.enqueue({ text: ["you sent ", KEY.slice(0, 10), `${KEY.slice(10)} `, "and nothing else"] });
    const run = await runPi({
      agentDir: dir.agentDir,
      sessionDir,
      args: ["--model", "auto-router/solo", "--mode", "json", "Repeat what you were sent"],
    });
    assert.equal(run.code, 0, run.stderr);
    const events = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const deltas = events
      .filter((event) => event.type === "message_update" && event.assistantMessageEvent?.type === "text_delta")
      .map((event) => event.assistantMessageEvent.delta);
    assert.equal(deltas.join(""), "you sent [REDACTED] and nothing else");
    const end = events.filter((event) => event.type === "message_end" && event.message?.role === "assistant").at(-1);
    assert.deepEqual(end.message.content, [{ type: "text", text: "you sent [REDACTED] and nothing else" }]);
    assert.equal(run.stdout.includes(KEY.slice(0, 10)), false, "no part of the key is in an event pi printed");
    const saved = readdirSync(sessionDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".jsonl"))
      .map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8"))
      .join("\n");
    assert.match(saved, /you sent \[REDACTED\] and nothing else/, "the session file holds the answer");
    assert.equal(saved.includes(KEY.slice(0, 10)), false, "the session file holds no part of the key");
    assert.equal(a.calls.at(-1)?.headers.authorization, `Bearer ${KEY}`, "the target was sent its key");
  });

  it("redacts the key from the cooldown and the event log of a failover", async () => {
    a.enqueue({ status: 429, errorMessage: `Too many requests for ${KEY}` });
    b.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/pair", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    const cooldowns = JSON.parse(readFileSync(join(dir.agentDir, "extensions", "auto-router.cooldowns.json"), "utf8"));
    assert.equal(cooldowns.entries["pair::mock-a/model-a"]?.message, "429 Too many requests for [REDACTED]");
    const failed = readEvents(dir.agentDir)
      .filter((event) => event.type === "result" && event.data.outcome === "failed")
      .at(-1);
    assert.equal(failed.data.message, "429 Too many requests for [REDACTED]");
    assert.equal(stateText().includes(KEY), false, "the key is not in the state files");
  });
});

describe("pi CLI: a wrong-typed field in the usage ledger", () => {
  let dir: EmulatedAgent<"A">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai" },
      providers: {
        "mock-a": {
          ...TWO_OPENAI_PROVIDERS["mock-a"],
          modelOptions: { cost: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 } },
        },
      },
      routes: { routes: { solo: { sortBy: "config", targets: [target("mock-a/model-a")] } } },
    });
  });
  after(() => dir?.stop());

  it("keeps the readable spend, warns once and keeps the bad copy", async () => {
    const extensions = join(dir.agentDir, "extensions");
    const damaged = JSON.stringify({
      version: 1,
      days: { "2026-01-01": { "mock-a": { "model-a": { requests: 3, costUsd: "0.5" } } } },
      months: {},
      migratedFrom: [],
    });
    writeFileSync(join(extensions, "auto-router.usage.json"), damaged);
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/solo", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    const warnings = run.stderr.split("\n").filter((line) => line.includes("auto-router.usage.json"));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(
      warnings[0]!,
      /partly unreadable \(invalid content: days\.2026-01-01\.mock-a\.model-a\.costUsd: .*\); moved aside to .* and kept every value that could be read/,
    );
    // The file is named once, in front; the only other mention is the copy's name.
    const file = join(extensions, "auto-router.usage.json");
    assert.ok(warnings[0]!.startsWith(`auto-router: warning: ${file}: partly unreadable (`), warnings[0]);
    assert.equal(warnings[0]!.split(`${file}:`).length, 2, warnings[0]);
    const copies = readdirSync(extensions).filter((name) => name.startsWith("auto-router.usage.json.corrupt-"));
    assert.equal(copies.length, 1);
    assert.equal(readFileSync(join(extensions, copies[0]!), "utf8"), damaged);
    const ledger = JSON.parse(readFileSync(join(extensions, "auto-router.usage.json"), "utf8"));
    assert.deepEqual(ledger.days["2026-01-01"]["mock-a"]["model-a"], {
      requests: 3,
      estimated: 0,
      input: 0,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
      costUsd: 0.5,
    });
  });

  it("keeps the spend when a field outside the buckets (version, timeZone) has the wrong type", async () => {
    const extensions = join(dir.agentDir, "extensions");
    const bucket = { requests: 7, estimated: 0, input: 70, output: 700, cacheRead: 0, cacheWrite: 0, costUsd: 1.25 };
    const damaged = JSON.stringify({
      version: "x1",
      days: { "2026-01-02": { "mock-a": { "model-a": bucket } } },
      months: { "2026-01": { "mock-a": { "model-a": bucket } } },
      timeZone: 5,
      migratedFrom: [],
    });
    writeFileSync(join(extensions, "auto-router.usage.json"), damaged);
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/solo", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    const warnings = run.stderr.split("\n").filter((line) => line.includes("auto-router.usage.json"));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(warnings[0]!, /partly unreadable \(invalid content: .*version.*\); moved aside to .* and kept every/);
    const ledger = JSON.parse(readFileSync(join(extensions, "auto-router.usage.json"), "utf8"));
    assert.equal(ledger.version, 1);
    assert.deepEqual(ledger.days["2026-01-02"]["mock-a"]["model-a"], bucket, "the day's spend kept");
    assert.equal(ledger.months["2026-01"]["mock-a"]["model-a"].requests, 7, "the month's spend kept");
  });
});

describe("pi CLI: a wrong-typed field in the cooldowns file", () => {
  let a: Emulator;
  let b: Emulator;
  let dir: EmulatedAgent<"A" | "B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: TWO_OPENAI_PROVIDERS,
      routes: { routes: { pair: { sortBy: "config", targets: [target("mock-a/model-a"), target("mock-b/model-b")] } } },
    });
    ({ A: a, B: b } = dir.emulators);
  });
  after(() => dir?.stop());

  it("keeps the readable cooldown (its target stays skipped), warns once and keeps the bad copy", async () => {
    const extensions = join(dir.agentDir, "extensions");
    const until = Date.now() + 3_600_000;
    const damaged = JSON.stringify({
      v: 1,
      entries: {
        "pair::mock-a/model-a": { until, kind: "rate_limit" },
        "pair::mock-b/model-b": { until: "later", kind: "server" },
      },
    });
    writeFileSync(join(extensions, "auto-router.cooldowns.json"), damaged);
    b.setDefault({ text: "from B" });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/pair", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "from B");
    assert.equal(a.calls.length, 0, "the cooldown that could be read still applies");
    const warnings = run.stderr.split("\n").filter((line) => line.includes("auto-router.cooldowns.json"));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(
      warnings[0]!,
      /partly unreadable \(invalid content: .*\); moved aside to .* and kept every value that could be read/,
    );
    const copies = readdirSync(extensions).filter((name) => name.startsWith("auto-router.cooldowns.json.corrupt-"));
    assert.equal(copies.length, 1);
    assert.equal(readFileSync(join(extensions, copies[0]!), "utf8"), damaged);
  });

  it("says where a state file that is not JSON is broken (line and column), moves it aside and starts from defaults", async () => {
    const extensions = join(dir.agentDir, "extensions");
    const broken = '{\n  "v": 1,\n  "entries": { "pair::mock-a/model-a" { "until": 1 } }\n}\n';
    writeFileSync(join(extensions, "auto-router.cooldowns.json"), broken);
    a.setDefault({ text: "from A" });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/pair", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "from A", "no cooldown is left from the unreadable file");
    const warnings = run.stderr.split("\n").filter((line) => line.includes("auto-router.cooldowns.json"));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(
      warnings[0]!,
      /auto-router\.cooldowns\.json: unreadable \(invalid JSON at line 3, column 39: Expected .:. after property name\); moved aside to \S+ and started from defaults$/,
    );
    const copies = readdirSync(extensions).filter((name) => name.startsWith("auto-router.cooldowns.json.corrupt-"));
    assert.ok(
      copies.some((name) => readFileSync(join(extensions, name), "utf8") === broken),
      "the broken text kept",
    );
  });
});
