// A continued session stays on its route. The router stamps each answer with the target that served it, and pi
// resumes a session (`--continue`) on the model of its last answer: without the router putting its route back, the
// second prompt would go to that one target alone, with no failover. The real pi CLI against local emulators.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROUTES_FILE_NAME, routeInOrder } from "../helpers/agent-dir.ts";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { startRpc } from "../helpers/rpc-client.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

/** Route `pair`: mock-a (Anthropic API) first, mock-b (OpenAI API) second. */
const PAIR = {
  emulators: { A: "anthropic", B: "openai" },
  providers: {
    "mock-a": { emulator: "A", apiKey: "sk-ant-mock-a", models: ["model-a"] },
    "mock-b": { emulator: "B", apiKey: "sk-mock-b-key", models: ["model-b"] },
  },
  routes: { routes: { pair: routeInOrder("mock-a/model-a", "mock-b/model-b") } },
} as const;

describe("pi --continue on an auto-router route", () => {
  let dir: EmulatedAgent<"A" | "B">;
  let sessions: string;

  before(async () => {
    dir = await startEmulatedAgent({
      ...PAIR,
    });
    sessions = freshDir("auto-router-sessions");
  });
  after(async () => {
    await dir?.stop();
    rmSync(sessions, { recursive: true, force: true });
  });

  it("goes back to the route, says so, and fails over there; --model on the command line still wins", async () => {
    const { A, B } = dir.emulators;
    A.enqueue({ text: "Hello from A." });
    const first = await runPi({
      agentDir: dir.agentDir,
      sessionDir: sessions,
      args: ["--model", "auto-router/pair", "-p", "first"],
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), "Hello from A.");

    dir.reset();
    A.enqueue({ status: 429, errorType: "rate_limit_error", errorMessage: "Rate limited", retryAfterSeconds: 30 });
    B.enqueue({ text: "B took over." });
    const second = await runPi({ agentDir: dir.agentDir, sessionDir: sessions, args: ["--continue", "-p", "second"] });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), "B took over.");
    assert.equal(A.calls.length, 1);
    assert.equal(B.calls.length, 1);
    assert.match(
      second.stderr,
      /this session continues on auto-router\/pair, its route \(pi had resumed it on mock-a\/model-a, the target that answered last\)/,
    );
    // The history reached B: the continued session is the same conversation.
    assert.match(JSON.stringify(B.calls[0]!.body), /Hello from A\./);

    dir.reset();
    B.enqueue({ text: "B directly." });
    const chosen = await runPi({
      agentDir: dir.agentDir,
      sessionDir: sessions,
      args: ["--continue", "--model", "mock-b/model-b", "-p", "third"],
    });
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.equal(chosen.stdout.trim(), "B directly.");
    assert.doesNotMatch(chosen.stderr, /continues on auto-router/);
  });

  it("goes back to the route when pi cannot run the target that answered last and starts on its default model", async () => {
    // An agent of its own: the first test leaves mock-a resting after its 429.
    const own = await startEmulatedAgent({
      ...PAIR,
      settings: { defaultProvider: "mock-b", defaultModel: "model-b" },
    });
    const ownSessions = freshDir("auto-router-sessions");
    try {
      const { A, B } = own.emulators;
      A.enqueue({ text: "Hello from A." });
      const first = await runPi({
        agentDir: own.agentDir,
        sessionDir: ownSessions,
        args: ["--model", "auto-router/pair", "-p", "first"],
      });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), "Hello from A.");
      // mock-a is gone from models.json: pi cannot resume on it and starts on its default model, a target.
      const modelsPath = join(own.agentDir, "models.json");
      const models = JSON.parse(readFileSync(modelsPath, "utf8"));
      delete models.providers["mock-a"];
      writeFileSync(modelsPath, JSON.stringify(models));

      B.enqueue({ text: "B on the route." });
      const second = await runPi({
        agentDir: own.agentDir,
        sessionDir: ownSessions,
        args: ["--continue", "-p", "second"],
      });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout.trim(), "B on the route.");
      assert.match(
        second.stderr,
        /this session continues on auto-router\/pair, its route \(pi could not resume it on mock-a\/model-a, the target that answered last, and had started it on mock-b\/model-b\)/,
      );
    } finally {
      await own.stop();
      rmSync(ownSessions, { recursive: true, force: true });
    }
  });
});

describe("pi start on a route the routes file no longer has", () => {
  const providers = {
    "mock-a": { emulator: "A" as const, apiKey: "sk-mock-a-key", models: ["model-a"] },
    "mock-b": { emulator: "B" as const, apiKey: "sk-mock-b-key", models: ["model-b"] },
  };

  it("--continue on a session whose route was renamed warns that it goes on the raw target, naming the routes", async () => {
    const own = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers,
      routes: { routes: { pair: routeInOrder("mock-a/model-a", "mock-b/model-b") } },
    });
    const ownSessions = freshDir("auto-router-sessions");
    try {
      own.emulators.A.enqueue({ text: "Hello from A." });
      const first = await runPi({
        agentDir: own.agentDir,
        sessionDir: ownSessions,
        args: ["--model", "auto-router/pair", "-p", "first"],
      });
      assert.equal(first.code, 0, first.stderr);
      const routesFile = join(own.agentDir, "extensions", ROUTES_FILE_NAME);
      writeFileSync(routesFile, JSON.stringify({ routes: { duo: routeInOrder("mock-a/model-a", "mock-b/model-b") } }));
      own.emulators.A.enqueue({ text: "A alone." });
      const second = await runPi({
        agentDir: own.agentDir,
        sessionDir: ownSessions,
        args: ["--continue", "-p", "second"],
      });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout.trim(), "A alone.");
      assert.match(
        second.stderr,
        /this session's route auto-router\/pair is no longer in the routes file; it continues on mock-a\/model-a alone, with no failover, .*\(routes: duo\)/,
      );
      // The routes file removed: the built-in routes serve, and the route was never one of them.
      rmSync(routesFile);
      own.emulators.A.enqueue({ text: "A again." });
      const third = await runPi({
        agentDir: own.agentDir,
        sessionDir: ownSessions,
        args: ["--continue", "-p", "third"],
      });
      assert.equal(third.code, 0, third.stderr);
      assert.equal(third.stdout.trim(), "A again.");
      assert.ok(
        third.stderr.includes(
          `this session's route auto-router/pair is not one of the built-in routes (there is no routes file, ${routesFile}); it continues on mock-a/model-a alone, with no failover,`,
        ),
        third.stderr,
      );
    } finally {
      await own.stop();
      rmSync(ownSessions, { recursive: true, force: true });
    }
  });

  it("warns at start when settings.json's default model names a route that is gone, and says what pi runs", async () => {
    const own = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers,
      routes: { routes: { duo: routeInOrder("mock-a/model-a", "mock-b/model-b") } },
      settings: { defaultProvider: "auto-router", defaultModel: "pair" },
    });
    try {
      const run = await runPi({ agentDir: own.agentDir, args: ["-p", "hi"] });
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stderr,
        /default model in settings.json \(defaultProvider "auto-router", defaultModel "pair"\) names a route that is not in the routes file; pi started on mock-[ab]\/model-[ab] instead\. Pick a route with \/model \(routes: duo\)/,
      );
      // A misspelt one gets the route it was probably meant to be, as --model auto-router/<typo> does.
      writeFileSync(
        join(own.agentDir, "settings.json"),
        JSON.stringify({ defaultProvider: "auto-router", defaultModel: "dou" }),
      );
      const typo = await runPi({ agentDir: own.agentDir, args: ["-p", "hi"] });
      assert.equal(typo.code, 0, typo.stderr);
      assert.match(
        typo.stderr,
        /defaultModel "dou"\) names a route that is not in the routes file; pi started on mock-[ab]\/model-[ab] instead\. Did you mean "duo"\? Write "defaultModel": "duo", or pick a route with \/model \(routes: duo\)/,
      );
    } finally {
      await own.stop();
    }
  });

  it("without a routes file, says the default names no built-in route, and how to write one written as auto-router/<route>", async () => {
    const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const started = "; pi started on mock-[ab]/model-[ab] instead. ";
    // No routes file: the built-in routes serve. An earlier router's route id, and a route written as /model lists it.
    for (const [model, said] of [
      [
        "subscription-premium",
        (agentDir: string) =>
          literal(
            `names a route that is not one of the built-in routes (there is no routes file, ${join(agentDir, "extensions", ROUTES_FILE_NAME)})`,
          ) +
          started +
          literal("Pick a route with /model (routes: subscription-reasoning, subscription-swe, ") +
          ".*" +
          literal(
            "). subscription-premium, a built-in route of the earlier pi-auto-router, is auto-router/subscription-reasoning here, but pi has credentials for none of its targets",
          ),
      ],
      [
        "auto-router/subscription-swe",
        () =>
          literal("names route subscription-swe with its provider in front, which pi does not read as that route") +
          started +
          literal('Write "defaultModel": "subscription-swe", or pick the route with /model'),
      ],
    ] as const) {
      const own = await startEmulatedAgent({
        emulators: { A: "openai", B: "openai" },
        providers,
        settings: { defaultProvider: "auto-router", defaultModel: model },
      });
      try {
        const run = await runPi({ agentDir: own.agentDir, args: ["-p", "hi"] });
        assert.equal(run.code, 0, run.stderr);
        const setting = literal(`settings.json (defaultProvider "auto-router", defaultModel "${model}") `);
        assert.match(run.stderr, new RegExp(setting + said(own.agentDir)));
        assert.doesNotMatch(run.stderr, /not in the routes file/);
      } finally {
        await own.stop();
      }
    }
  });
});

describe("the earlier pi-auto-router's built-in route ids, without a routes file", () => {
  // deepseek/deepseek-v4-pro is a target of the built-in subscription-reasoning route; here it answers on emulator A.
  const providers = { deepseek: { emulator: "A" as const, apiKey: "sk-deepseek-mock", models: ["deepseek-v4-pro"] } };

  it("a saved default or a resumed session naming subscription-premium goes on subscription-reasoning", async () => {
    const own = await startEmulatedAgent({
      emulators: { A: "openai" },
      providers,
      settings: { defaultProvider: "auto-router", defaultModel: "subscription-premium" },
    });
    const ownSessions = freshDir("auto-router-sessions");
    try {
      own.emulators.A.enqueue({ text: "Reasoned." });
      const first = await runPi({ agentDir: own.agentDir, sessionDir: ownSessions, args: ["-p", "first"] });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), "Reasoned.");
      assert.ok(
        first.stderr.includes(
          `auto-router: pi's default model in settings.json (defaultModel "subscription-premium") is a built-in route of the earlier pi-auto-router; pi runs auto-router/subscription-reasoning in its place (to start on it without this note: "defaultModel": "subscription-reasoning" in settings.json)`,
        ),
        first.stderr,
      );
      assert.deepEqual(
        own.emulators.A.calls.map((call) => call.body.model),
        ["deepseek-v4-pro"],
      );

      // A session the earlier router left on its route: the routes file it had (its subscription-premium) is gone.
      const routesFile = join(own.agentDir, "extensions", ROUTES_FILE_NAME);
      writeFileSync(
        routesFile,
        JSON.stringify({ routes: { "subscription-premium": routeInOrder("deepseek/deepseek-v4-pro") } }),
      );
      own.emulators.A.enqueue({ text: "On the earlier route." });
      const earlier = await runPi({
        agentDir: own.agentDir,
        sessionDir: ownSessions,
        args: ["--model", "auto-router/subscription-premium", "-p", "second"],
      });
      assert.equal(earlier.code, 0, earlier.stderr);
      rmSync(routesFile);
      own.emulators.A.enqueue({ text: "Continued." });
      const resumed = await runPi({
        agentDir: own.agentDir,
        sessionDir: ownSessions,
        args: ["--continue", "-p", "third"],
      });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.stdout.trim(), "Continued.");
      assert.ok(
        resumed.stderr.includes(
          "auto-router: this session's route auto-router/subscription-premium is a built-in route of the earlier pi-auto-router; the session continues on auto-router/subscription-reasoning in its place (pi had resumed it on deepseek/deepseek-v4-pro)",
        ),
        resumed.stderr,
      );
    } finally {
      await own.stop();
      rmSync(ownSessions, { recursive: true, force: true });
    }
  });
});

describe("a new session started while a routed answer streams", () => {
  it("rests no target: the stale session's status line is dropped, and the next prompt is served by the first target", async () => {
    const own = await startEmulatedAgent({
      ...PAIR,
    });
    const rpc = await startRpc({
      agentDir: own.agentDir,
      sessionDir: freshDir("auto-router-sessions"),
      args: ["--model", "auto-router/pair"],
    });
    try {
      // The answer's first bytes come after the new session replaced the one that asked: pi's getters on the old
      // context then throw ("ctx is stale"), which the status line read inside the attempt, failing it and resting
      // mock-a for 10 s in every pi window.
      own.emulators.A.enqueue({ delayBeforeHeadersMs: 1_500, text: ["slow ", "answer"], chunkDelayMs: 100 });
      await rpc.request({ type: "prompt", message: "slow one" });
      // The request has reached mock-a, whose headers are 1.5 s away: the new session replaces the one that asked
      // while it waits for them (a fixed 500 ms could end before a loaded pi had even sent the request).
      await until(() => own.emulators.A.calls.length === 1, "the first request at mock-a", 60_000);
      await rpc.request({ type: "new_session" });
      await until(
        () => own.emulators.A.calls.length === 1 && finals(own.agentDir).length === 1,
        "the first request's end",
        60_000,
      );
      own.emulators.A.enqueue({ text: "Hello from A." });
      await rpc.request({ type: "prompt", message: "in the new session" });
      const ended = await rpc.waitFor((line) => line.type === "agent_end", 60_000);
      const answer = ended.messages?.findLast?.((message: any) => message.role === "assistant");
      assert.equal(answer?.provider, "mock-a", JSON.stringify(answer));
      const events = readLoggedEvents(own.agentDir);
      // Newer pi lines abort the request of the replaced session (outcome "aborted": no failure, no rest); pi 0.73
      // lets it finish.
      const failed = events.filter(
        (event) => event.type === "result" && !["success", "aborted"].includes(event.data.outcome),
      );
      assert.deepEqual(
        failed.map((event) => `${event.data.target}: ${event.data.outcome} ${event.data.message}`),
        [],
        "no attempt failed for the router's own stale context",
      );
      assert.doesNotMatch(JSON.stringify(events), /ctx is stale/);
      assert.equal(own.emulators.B.calls.length, 0, "nothing failed over");
    } finally {
      await rpc.close();
      await own.stop();
    }
  });
});

const finals = (agentDir: string) => readLoggedEvents(agentDir).filter((event) => event.type === "final");
