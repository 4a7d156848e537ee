// Spend recorded through the real pi CLI: several pi processes share one agent dir (as several terminal windows do)
// and answer from one OpenAI emulator that reports usage. The earlier implementation lost 70-75% of these updates.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseLedger, providerSpend, type UsageLedger } from "../../src/budget/usage-ledger.ts";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { promptAtOnce, startRpc } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { findLogFiles, readEvents as readLogFiles } from "../../src/events/read-events.ts";
import { joinRequests } from "../../src/analytics/request-join.ts";
import { computeRoutingStats } from "../../src/analytics/routing-stats.ts";

const PROCESSES = 4;
const PROMPTS_PER_PROCESS = 10;
// The emulator's default usage is 12 input + 7 output tokens; at $1000/$2000 per 1M that is $0.026 per answer.
const INPUT_TOKENS = 12;
const OUTPUT_TOKENS = 7;
const COST_PER_ANSWER_USD = 0.026;

function setup(emulator: Emulator) {
  return makeAgentDir({
    providers: {
      "mock-a": {
        baseUrl: emulator.url,
        api: "openai-completions",
        apiKey: "sk-mock-a-key",
        models: [{ id: "model-a", cost: { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 } }],
      },
    },
    routes: { routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
  });
}

const readLedger = (agentDir: string): UsageLedger =>
  parseLedger(JSON.parse(readFileSync(join(agentDir, "extensions", "auto-router.usage.json"), "utf8")));

function readSpend(agentDir: string) {
  return providerSpend(readLedger(agentDir), calendarKeys(Date.now(), undefined), "mock-a");
}

/** The events as the readers expand them (a request's attempts, results and usage ride on its final line). */
const readEvents = (agentDir: string): any[] => readLoggedEvents(agentDir);
/** The agent dir's log as the routing-* scripts read it. */
const readAll = (agentDir: string) => readLogFiles(findLogFiles(join(agentDir, "extensions")));

describe("spend through the pi CLI", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startOpenAIEmulator({ name: "A" });
  });
  after(async () => {
    await emulator.close();
  });

  it("records the exact spend of 4 parallel pi processes answering 10 prompts each in one agent dir", async () => {
    const dir = setup(emulator);
    try {
      const prompts = Array.from({ length: PROMPTS_PER_PROCESS }, (_, index) => `prompt ${index + 1}`);
      const runs = await Promise.all(
        Array.from({ length: PROCESSES }, () =>
          runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", ...prompts], timeoutMs: 30_000 }),
        ),
      );
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      const answers = PROCESSES * PROMPTS_PER_PROCESS;
      assert.equal(emulator.calls.length, answers);
      const spend = readSpend(dir.agentDir);
      assert.equal(spend.day.requests, answers);
      assert.equal(spend.month.requests, answers);
      assert.equal(spend.day.input, answers * INPUT_TOKENS);
      assert.equal(spend.day.output, answers * OUTPUT_TOKENS);
      assert.ok(Math.abs(spend.day.costUsd - answers * COST_PER_ANSWER_USD) < 1e-9, String(spend.day.costUsd));
      assert.equal(spend.day.estimated, 0, "pi-ai's own usage and cost were consistent");
      assert.equal(readEvents(dir.agentDir).filter((event) => event.type === "usage").length, answers);

      const show = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router budget show"],
      });
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout + show.stderr, /mock-a\s+today\s+\$1\.04\s/);
    } finally {
      dir.cleanup();
    }
  });

  it("keeps the usage record and the event log entries of an RPC client's last answer when it closes stdin at once", async () => {
    emulator.reset();
    const dir = setup(emulator);
    try {
      const rpc = await startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/main"] });
      await rpc.request({ type: "prompt", message: "hello" });
      await rpc.waitFor((line) => line.type === "agent_end");
      const { code } = await rpc.close();
      assert.equal(code, 0, rpc.stderr);
      const spend = readSpend(dir.agentDir);
      assert.equal(spend.day.requests, 1);
      assert.ok(Math.abs(spend.day.costUsd - COST_PER_ANSWER_USD) < 1e-9);
      const events = readEvents(dir.agentDir);
      const usage = events.find((event) => event.type === "usage");
      assert.ok(usage, "usage event written");
      assert.ok(
        events.some((event) => event.type === "result" && event.requestId === usage.requestId),
        "result event of the same request written",
      );
    } finally {
      dir.cleanup();
    }
  });

  it("counts what the earlier router booked under today's UTC date in today's budget, in a zone whose date is another", async () => {
    // A zone where the local date differs from the UTC date right now: UTC-12 in the UTC morning, UTC+14 after.
    const utc = new Date();
    const zone = utc.getUTCHours() < 12 ? "Etc/GMT+12" : "Etc/GMT-14";
    const today = utc.toISOString().slice(0, 10);
    assert.notEqual(calendarKeys(utc.getTime(), zone).day, today);
    const dir = setup(emulator);
    try {
      writeFileSync(
        join(dir.agentDir, "extensions", "auto-router.stats.json"),
        JSON.stringify({
          version: 2,
          daily: { [today]: { "mock-a": { inputTokens: 1000, outputTokens: 200, estimatedCost: 1.25 } } },
          monthly: { [today.slice(0, 7)]: { "mock-a": { inputTokens: 1000, outputTokens: 200, estimatedCost: 1.25 } } },
          limits: { "mock-a": { dailyUsd: 2 } },
        }),
      );
      const run = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
        env: { TZ: zone },
      });
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(shown, new RegExp(`today ${calendarKeys(utc.getTime(), zone).day}`), shown);
      assert.match(shown, /^mock-a\s+today\s+\$1\.25\s+\$2\.00\s+62%/m, shown);
    } finally {
      dir.cleanup();
    }
  });

  it("refuses an argument after budget show with the usage line and exit code 1, as other bad arguments", async () => {
    const dir = setup(emulator);
    try {
      const run = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router budget show extra"],
      });
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(run.stdout + run.stderr, /budget show: unexpected "extra"\nusage: \/auto-router budget \[show\]/);
      assert.doesNotMatch(run.stdout + run.stderr, /^budgets: today/m, "no table for a refused command");
    } finally {
      dir.cleanup();
    }
  });

  it("lists every status-line warning in /auto-router status (the line itself shows what fits)", async () => {
    const dir = setup(emulator);
    try {
      // Soft policy: one $0.026 answer puts a $0.02 daily limit over, and the route is still served. The status after
      // it in the same pi process (only status prints a warnings line).
      const status = await runPi({
        agentDir: dir.agentDir,
        args: [
          "--model",
          "auto-router/main",
          "-p",
          "/auto-router budget set mock-a 0.02",
          "spend",
          "/auto-router status",
        ],
      });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout + status.stderr, /^warnings: budget mock-a 1\d\d% blocked$/m);
    } finally {
      dir.cleanup();
    }
  });

  it("lets exactly one of two pi processes on one agent dir through a hard budget that fits one more request", async () => {
    emulator.reset();
    const fallback = await startOpenAIEmulator({ name: "B" });
    const cost = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };
    const dir = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: emulator.url,
          api: "openai-completions",
          apiKey: "sk-mock-a-key",
          models: [{ id: "model-a", cost }],
        },
        "mock-b": {
          baseUrl: fallback.url,
          api: "openai-completions",
          apiKey: "sk-mock-b-key",
          models: [{ id: "model-b", cost }],
        },
      },
      routes: { routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") }, budgets: { policy: "hard" } },
    });
    try {
      // One answer costs $0.026: after the first, $0.06 a day fits exactly one more ($0.052), not two ($0.078). The
      // first prompt and the limit's command in one pi process.
      const set = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "first", "/auto-router budget set mock-a 0.06 daily"],
      });
      assert.equal(set.code, 0, set.stderr);
      assert.equal(emulator.calls.length, 1);
      const clients = await Promise.all(
        [1, 2].map(() => startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/main"] })),
      );
      try {
        await Promise.all(clients.map((rpc) => rpc.request({ type: "get_state" })));
        // Slow answers: both processes decide and start while neither one's spend has been recorded.
        emulator.setDefault({ delayBeforeHeadersMs: 2_000 });
        await promptAtOnce(clients, "at once");
      } finally {
        await Promise.allSettled(clients.map((rpc) => rpc.close()));
        emulator.setDefault({});
      }
      assert.equal(emulator.calls.length - 1, 1, "exactly one process was let through to mock-a");
      assert.equal(fallback.calls.length, 1, "the other was refused by the budget and went to mock-b");
      const finals = readEvents(dir.agentDir).filter((event) => event.type === "final");
      const refused = finals.filter((event) =>
        (event.data.notes ?? []).some((note: string) =>
          /skipped mock-a\/model-a: hard daily budget: spent \$0\.026 \+ in flight \$0\.026/.test(note),
        ),
      );
      assert.equal(refused.length, 1, JSON.stringify(finals.map((event) => event.data)));
      assert.equal(readSpend(dir.agentDir).day.requests, 2);
      assert.deepEqual(
        readLedger(dir.agentDir).reservations,
        {},
        "the served attempt's reservation ended with its usage",
      );
    } finally {
      await fallback.close();
      dir.cleanup();
    }
  });

  it("applies a hard budget written with another case of the provider's name, and a command's, to that provider", async () => {
    emulator.reset();
    const fallback = await startOpenAIEmulator({ name: "B" });
    const cost = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };
    const provider = (url: string, key: string, id: string) => ({
      baseUrl: url,
      api: "openai-completions" as const,
      apiKey: key,
      models: [{ id, cost }],
    });
    const dir = makeAgentDir({
      providers: {
        "mock-a": provider(emulator.url, "sk-mock-a-key", "model-a"),
        "mock-b": provider(fallback.url, "sk-mock-b-key", "model-b"),
      },
      routes: {
        routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
        budgets: { policy: "hard", providers: { "Mock-A": { daily: 0.001 } } },
      },
    });
    /** The text of the last user message a call sent: the prompt it answered. */
    const prompted = (call: { body: any }): string => {
      const content = call.body.messages.at(-1)?.content;
      return typeof content === "string" ? content : content.map((part: any) => part.text).join("");
    };
    try {
      // A command's limit in yet another case replaces the config's for mock-a: $5 lets it serve. All in one pi
      // process: "one" before the command, "two" after it.
      const set = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "one", "/auto-router budget set MOCK-A 5", "two"],
      });
      assert.equal(set.code, 0, set.stderr);
      assert.deepEqual(
        fallback.calls.map(prompted),
        ["one"],
        "mock-a is over the $0.001 written under Mock-A: mock-b answered one",
      );
      const shown = set.stdout + set.stderr;
      assert.match(shown, /^daily budget for mock-a set to \$5\.00$/m, shown);
      assert.doesNotMatch(shown, /no target of any route bills to/, shown);
      assert.match(shown, /^mock-a\s+today\s+\$0\.00\s+\$5\.00\s/m, shown);
      assert.doesNotMatch(shown, /^(Mock-A|MOCK-A)\s/m, "one row per provider");
      assert.deepEqual(emulator.calls.map(prompted), ["two"], "mock-a served two under its $5 limit");
      const stored = JSON.parse(
        readFileSync(join(dir.agentDir, "extensions", "auto-router.budget-limits.json"), "utf8"),
      );
      assert.deepEqual(Object.keys(stored.providers), ["mock-a"]);
    } finally {
      await fallback.close();
      dir.cleanup();
    }
  });

  it("keeps counting the spend on disk under a hard budget when the state directory cannot be written", async (t) => {
    emulator.reset();
    const fallback = await startOpenAIEmulator({ name: "B" });
    // Each answer reports 2,000 input and 2,000 output tokens: $0.06. The first request's reservation, before any
    // spend, is the decision's estimate (~1,250 prompt tokens and an assumed 1,000 output tokens: ~$0.035).
    const cost = { input: 10, output: 20, cacheRead: 0, cacheWrite: 0 };
    const provider = (url: string, key: string, id: string) => ({
      baseUrl: url,
      api: "openai-completions" as const,
      apiKey: key,
      models: [{ id, cost }],
    });
    const dir = makeAgentDir({
      providers: {
        "mock-a": provider(emulator.url, "sk-mock-a-key", "model-a"),
        "mock-b": provider(fallback.url, "sk-mock-b-key", "model-b"),
      },
      // Two answers ($0.12) fit, a third ($0.18) does not.
      routes: {
        routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0.15 } } },
      },
    });
    const state = join(dir.agentDir, "extensions");
    let immutable = false;
    try {
      const answer = { text: "answer", usage: { input: 2_000, output: 2_000 } };
      emulator.enqueue(answer, answer);
      const spent = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "one", "two"] });
      assert.equal(spent.code, 0, spent.stderr);
      assert.equal(emulator.calls.length, 2);
      // An immutable directory (root or not, nothing can be written into it), its files still readable.
      immutable = spawnSync("chattr", ["+i", state]).status === 0;
      if (!immutable) return t.skip("chattr +i is not available here");
      const third = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", "three"] });
      assert.equal(third.code, 0, third.stderr);
      assert.match(
        third.stderr,
        /is not usable \(this user may not write in it: EPERM\); the state it holds is read, but changes/,
      );
      assert.equal(emulator.calls.length, 2, "the $0.12 on disk counts: mock-a's third answer would pass $0.15");
      assert.equal(fallback.calls.length, 1);
    } finally {
      if (immutable) spawnSync("chattr", ["-i", state]);
      await fallback.close();
      dir.cleanup();
    }
  });

  it("still blocks a spent hard budget after the usage file is cut short under a running pi process", async () => {
    emulator.reset();
    const fallback = await startOpenAIEmulator({ name: "B" });
    // Each answer reports 2,000 input and 2,000 output tokens: $0.06; two ($0.12) fit under $0.15, a third does not.
    const cost = { input: 10, output: 20, cacheRead: 0, cacheWrite: 0 };
    const provider = (url: string, key: string, id: string) => ({
      baseUrl: url,
      api: "openai-completions" as const,
      apiKey: key,
      models: [{ id, cost }],
    });
    const dir = makeAgentDir({
      providers: {
        "mock-a": provider(emulator.url, "sk-mock-a-key", "model-a"),
        "mock-b": provider(fallback.url, "sk-mock-b-key", "model-b"),
      },
      routes: {
        routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") },
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0.15 } } },
      },
    });
    const usageFile = join(dir.agentDir, "extensions", "auto-router.usage.json");
    const parses = (): boolean => {
      try {
        JSON.parse(readFileSync(usageFile, "utf8"));
        return true;
      } catch {
        return false;
      }
    };
    const rpc = await startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/main"] });
    try {
      const answer = { text: "answer", usage: { input: 2_000, output: 2_000 } };
      emulator.enqueue(answer, answer);
      for (const prompt of ["one", "two"]) await promptAtOnce([rpc], prompt);
      assert.equal(emulator.calls.length, 2);
      await until(() => parses() && readSpend(dir.agentDir).day.requests === 2, "both answers' spend on disk");
      const text = readFileSync(usageFile, "utf8");
      writeFileSync(usageFile, text.slice(0, Math.floor(text.length / 2)));
      // The running process finds the damage on its next read of the file (its refresh or its next write).
      await until(parses, "the usage file rewritten");
      await promptAtOnce([rpc], "three");
      assert.equal(emulator.calls.length, 2, "mock-a's $0.12 still counts: a third answer would pass $0.15");
      assert.equal(fallback.calls.length, 1);
      await rpc.close();
      assert.equal(readSpend(dir.agentDir).day.requests, 2, "mock-a's spend was written back");
      const shown = rpc.stderr + JSON.stringify(rpc.uiRequests());
      assert.match(
        shown,
        /moved aside to \S*auto-router\.usage\.json\.corrupt-\S* and rewritten from this process's last view of it/,
      );
    } finally {
      await rpc.close();
      await fallback.close();
      dir.cleanup();
    }
  });

  it("shows in /auto-router budget what a process that ended mid-request still holds in flight, and until when", async () => {
    const dir = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: emulator.url,
          api: "openai-completions",
          apiKey: "sk-mock-a-key",
          models: [{ id: "model-a", cost: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 } }],
        },
      },
      routes: {
        routes: { main: routeInOrder("mock-a/model-a") },
        budgets: { policy: "hard", providers: { "mock-a": { daily: 10 } } },
      },
    });
    try {
      // What a process killed mid-request leaves: its reservation, for the rest of its 10 minutes.
      const ledger = {
        version: 1,
        days: {},
        months: {},
        migratedFrom: [],
        reservations: { "dead-request:1": { provider: "mock-a", amountUsd: 3, expiresAt: Date.now() + 5 * 60_000 } },
      };
      writeFileSync(join(dir.agentDir, "extensions", "auto-router.usage.json"), JSON.stringify(ledger));
      const shown = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router budget"],
      });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(
        shown.stdout + shown.stderr,
        /^mock-a: in flight ~\$3\.00 reserved by 1 request under the hard limit \(one whose process ended stops counting within [45]m\)$/m,
      );
    } finally {
      dir.cleanup();
    }
  });

  it("explains a request served by its second target after a hard budget refused the first right before its attempt", async () => {
    const cost = { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 };
    const provider = (key: string, id: string) => ({
      baseUrl: emulator.url,
      api: "openai-completions" as const,
      apiKey: key,
      models: [{ id, cost }],
    });
    const dir = makeAgentDir({
      providers: { "mock-a": provider("sk-mock-a-key", "model-a"), "mock-b": provider("sk-mock-b-key", "model-b") },
      routes: {
        routes: {
          main: routeInOrder("mock-a/model-a", "mock-b/model-b"),
        },
        // Under its limit, so still ranked first; but the request's expected cost (~1,250 input tokens at $1000 per
        // 1M) does not fit, so the reservation right before the attempt refuses it.
        budgets: { policy: "hard", providers: { "mock-a": { daily: 0.03 } } },
      },
    });
    try {
      const run = await runPi({
        agentDir: dir.agentDir,
        args: ["--model", "auto-router/main", "-p", "one", "/auto-router explain"],
      });
      assert.equal(run.code, 0, run.stderr);
      const shown = run.stdout + run.stderr;
      assert.match(
        shown,
        /Served by: mock-b\/model-b \(answered; skipped mock-a\/model-a: hard daily budget: spent \$0\.\d{2,4} \+ in flight/,
      );
      assert.doesNotMatch(shown, /first choice, answered/);
      // The budget's check is made at the reservation, but mock-a was skipped for its budget: never a candidate ranked
      // first that the request passed over.
      assert.match(shown, /^Candidates:\n {2}1\. mock-b\/model-b /m);
      assert.match(shown, /^ {2}- mock-a\/model-a: budget - hard daily budget: spent \$0\.\d{2,4} \+ in flight/m);
      assert.doesNotMatch(shown, /Ranked first: mock-a|^ {2}\d\. mock-a\/model-a|^Notes:/m);
      // The log says the same: planned on mock-b, mock-a skipped by its budget, so no change of target is counted.
      const final = readEvents(dir.agentDir).find((event) => event.type === "final");
      assert.equal(final?.data.plannedTarget, "mock-b/model-b");
      assert.deepEqual(final?.data.budgetSkipped, ["mock-a/model-a"]);
      const stats = await computeRoutingStats(joinRequests(readAll(dir.agentDir)));
      assert.deepEqual(
        stats.plannedToServed.map((pair) => [pair.planned, pair.served, pair.changed]),
        [["mock-b/model-b", "mock-b/model-b", false]],
      );
    } finally {
      dir.cleanup();
    }
  });
});
