// /auto-router debug through real pi (SDK in-process, faux targets): the report a user attaches to a bug, shown and
// written to a file, from a world whose config and provider errors carry keys; none of them, and no prompt text,
// may appear in it.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { WIDGET_KEY } from "../../src/commands/output.ts";
import { harnessPerTest } from "../helpers/sdk-harness.ts";

const CONFIG_KEY = "sk-proj-ConfigKey0123456789abcdefABCDEF";
const ENDPOINT_KEY = "sk-0123456789abcdef0123456789abcdef";
const ERROR_KEY = "sk-ant-api03-ErrorKey_0123456789abcdefghij";
const GOOGLE_KEY = "AIzaSyD-0123456789abcdefghijklmnopqrstuv";
const PROMPT = "PROMPT-TEXT-MARKER please refactor my secret plan";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
const ROUTES = {
  _comment: `old key, do not use: ${CONFIG_KEY}`,
  routes: {
    main: {
      sortBy: "config",
      targets: [
        {
          provider: "mock-a",
          modelId: "model-a",
          balanceEndpoint: `http://127.0.0.1:9/balance?api_key=${ENDPOINT_KEY}`,
        },
        // Tokens in headers the redaction cannot know by name or shape (a GitLab-style private-token, say).
        {
          provider: "mock-b",
          modelId: "model-b",
          headers: { "private-token": "LEAKF-6666", "x-custom-token": "LEAKA-1111" },
        },
        { provider: "nowhere", modelId: "missing-model" },
      ],
    },
  },
};

const harnesses = harnessPerTest();

describe("/auto-router debug", () => {
  it("shows and writes one redacted report: versions, config, state files, routes, cooldowns, last decisions", async () => {
    const h = await harnesses.start(
      { targets: TARGETS, routes: ROUTES, env: { GOOGLE_API_KEY: GOOGLE_KEY } },
      "auto-router-debug",
    );
    const stateDir = harnesses.stateDir;
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: `429 {"error":{"message":"Rate limited for key ${ERROR_KEY}"}}`,
      }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("served by B"), fauxAssistantMessage("again B")]);
    await h.prompt(PROMPT);
    await h.prompt("second prompt");
    assert.equal(h.lastAssistant().provider, "mock-b");

    const notice = await h.command("/auto-router debug");
    const shown = `${notice}\n${(h.ui!.widgets.get(WIDGET_KEY) ?? []).join("\n")}`;
    const file = join(stateDir, "auto-router.debug-report.txt");
    assert.match(notice, new RegExp(`^report written to ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    const report = readFileSync(file, "utf8");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(shown.includes(report.trimEnd()), "the UI shows the same report");

    assert.match(report, /^pi \d+\.\d+\.\d+, node \d+\.\d+\.\d+, pi-auto-router \d+\.\d+\.\d+$/m);
    assert.match(report, /^loaded from \/.+ \((bundle, V8 code cache: .+|TypeScript sources)\)$/m);
    assert.match(report, /auto-router\.routes\.json: loaded/);
    assert.match(report, /^ {2}auto-router\.events\.jsonl: \d+ bytes, append-only log$/m);
    assert.match(report, /^ {2}auto-router\.cooldowns\.json: \d+ bytes, ok$/m);
    assert.match(report, /mock-a\/model-a\s+cooldown \S+ \(\w+\)\s+API key/);
    assert.match(report, /nowhere\/missing-model\s+missing model\s+-/);
    assert.match(report, /cooldown main mock-a\/model-a: rate_limit/);
    const decisions = report.slice(report.indexOf("## last 5 decisions per route"));
    assert.match(decisions, /^main:$/m);
    // The first prompt planned mock-a and failed over; the second planned mock-b, mock-a resting after its 429.
    assert.match(
      decisions,
      /planned mock-a\/model-a \(.*\): success by mock-b\/model-b, 1 failover \[rate_limit\]\n.*planned mock-b\/model-b \(.*\): success by mock-b\/model-b$/m,
    );

    // A target's extra headers are shown by name only.
    assert.match(report, /"headers":\{"private-token":"\[REDACTED\]","x-custom-token":"\[REDACTED\]"\}/);
    for (const secret of [
      CONFIG_KEY,
      ENDPOINT_KEY,
      ERROR_KEY,
      GOOGLE_KEY,
      "PROMPT-TEXT-MARKER",
      "secret plan",
      "LEAKF-6666",
      "LEAKA-1111",
    ]) {
      assert.ok(!report.includes(secret), `the report must not contain ${secret}`);
      assert.ok(!shown.includes(secret), `the UI must not show ${secret}`);
    }
  });

  it("lists a request a tier moved under the route that served it, naming the route it was sent to", async () => {
    const h = await harnesses.start(
      {
        targets: [
          { provider: "mock-a", models: [{ id: "model-a" }] },
          { provider: "mock-b", models: [{ id: "model-b", reasoning: true }] },
        ],
        routes: {
          tiers: { reasoning: { route: "deep" } },
          routes: {
            main: { targets: [{ provider: "mock-a", modelId: "model-a" }] },
            deep: { targets: [{ provider: "mock-b", modelId: "model-b" }] },
          },
        },
      },
      "auto-router-debug-tier",
    );
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("plain answer")]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("deep answer")]);
    await h.prompt("@reasoning think it through");
    assert.equal(h.lastAssistant().provider, "mock-b");
    await h.prompt("say hi");
    assert.equal(h.lastAssistant().provider, "mock-a");

    await h.command("/auto-router debug");
    const report = readFileSync(join(harnesses.stateDir, "auto-router.debug-report.txt"), "utf8");
    const decisions = report.slice(report.indexOf("## last 5 decisions per route")).split("\n");
    const section = (route: string) => {
      const start = decisions.indexOf(`${route}:`);
      assert.ok(start >= 0, `a section for ${route}:\n${decisions.join("\n")}`);
      const end = decisions.findIndex((text, index) => index > start && !text.startsWith("  "));
      return decisions.slice(start + 1, end < 0 ? undefined : end);
    };
    const deep = section("deep");
    assert.equal(deep.length, 1, deep.join("\n"));
    assert.match(deep[0]!, /planned mock-b\/model-b \(\S+ @reasoning from main\): success by mock-b\/model-b$/);
    const main = section("main");
    assert.equal(main.length, 1, main.join("\n"));
    assert.match(main[0]!, /planned mock-a\/model-a \(\S+\): success by mock-a\/model-a$/);
  });
});
