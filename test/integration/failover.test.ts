// Same-request failover through real pi (SDK in-process, faux targets): the spine's behaviours.
import { eventually } from "../helpers/temp-and-workers.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { afterEach, describe, it } from "node:test";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", contextWindow: 100_000 }] },
  { provider: "mock-b", models: [{ id: "model-b", contextWindow: 200_000 }] },
  { provider: "mock-c", models: [{ id: "model-c", contextWindow: 400_000 }] },
  { provider: "mock-s", models: [{ id: "model-s", contextWindow: 4_000 }] },
  { provider: "mock-o", models: [{ id: "model-o", maxTokens: 8_000 }] },
  // Streams its answer over several turns of the event loop, so the status line is shown while it streams.
  { provider: "mock-t", models: [{ id: "model-t" }], tokensPerSecond: 2_000 },
];

function routes(extra: Record<string, unknown> = {}, targets = ["mock-a/model-a", "mock-b/model-b", "mock-c/model-c"]) {
  return {
    routes: {
      main: {
        sortBy: "config",
        targets: targets.map((t) => ({ provider: t.split("/")[0], modelId: t.split("/")[1] })),
        ...extra,
      },
    },
  };
}

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function start(
  options: {
    routes?: unknown;
    settings?: Record<string, unknown>;
    env?: Record<string, string>;
    tools?: string[];
  } = {},
) {
  harness = await createSdkHarness({
    targets: TARGETS,
    routes: options.routes ?? routes(),
    settings: options.settings,
    env: options.env,
    tools: options.tools,
  });
  await harness.setModel("auto-router", "main");
  return harness;
}

const textOf = (message: any) =>
  (message?.content ?? [])
    .filter((b: any) => b.type === "text")
    .map((b: any) => b.text)
    .join("");

/** Every status line the session shows from now on, in order. */
function statusHistory(h: SdkHarness): string[] {
  const shown: string[] = [];
  const statuses = h.ui!.statuses;
  const set = statuses.set.bind(statuses);
  statuses.set = (key, text) => {
    if (text) shown.push(text);
    return set(key, text);
  };
  return shown;
}

describe("same-request failover", () => {
  for (const [name, errorMessage] of [
    ["429", "429 Rate limit reached for requests"],
    ["529", '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'],
    ["503", "503 Service Unavailable"],
    ["connection refused", "Connection error."],
  ] as const) {
    it(`fails over to the next target when the first answers ${name} before any text`, async () => {
      const h = await start();
      const { fauxAssistantMessage } = h.fauxHelpers;
      h.faux("mock-a").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage })]);
      h.faux("mock-b").setResponses([fauxAssistantMessage("Hello from B")]);
      await h.prompt("Say hi");
      const last = h.lastAssistant();
      assert.equal(last.stopReason, "stop");
      assert.equal(textOf(last), "Hello from B");
      // The stored message names the real target, not auto-router.
      assert.equal(last.provider, "mock-b");
      assert.equal(last.model, "model-b");
      assert.equal(h.faux("mock-a").state.callCount, 1);
      assert.equal(h.faux("mock-b").state.callCount, 1);
      assert.equal(h.faux("mock-c").state.callCount, 0);
    });
  }

  it("treats a 200 that ends without text or a tool call as a failure and fails over", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage([])]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("real answer")]);
    await h.prompt("Say hi");
    assert.equal(textOf(h.lastAssistant()), "real answer");
    assert.equal(h.lastAssistant().provider, "mock-b");
  });

  it("surfaces an error after text started and never calls the next target", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage("partial answer", { stopReason: "error", errorMessage: "terminated" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("should not be used")]);
    await h.prompt("Say hi");
    const last = h.lastAssistant();
    assert.equal(last.stopReason, "error");
    assert.equal(last.errorMessage, "terminated");
    assert.equal(last.provider, "mock-a");
    assert.equal(textOf(last), "partial answer");
    assert.equal(h.faux("mock-b").state.callCount, 0);
  });

  it("does not fail over on a 400 and surfaces the target's own error", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "400 Invalid schema for function 'echo'" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("should not be used")]);
    await h.prompt("Say hi");
    const last = h.lastAssistant();
    assert.equal(last.stopReason, "error");
    assert.equal(last.errorMessage, "400 Invalid schema for function 'echo'");
    assert.equal(h.faux("mock-b").state.callCount, 0);
  });

  it("ends an aborted request as aborted, without failover and without a cooldown", async () => {
    const h = await start({ routes: routes({}, ["mock-a/model-a", "mock-b/model-b"]) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return fauxAssistantMessage("slow answer");
      },
      fauxAssistantMessage("second prompt answer"),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("should not be used")]);
    const running = h.prompt("Say hi");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await h.session.abort();
    await running;
    assert.equal(h.lastAssistant().stopReason, "aborted");
    assert.equal(h.faux("mock-b").state.callCount, 0);
    // No cooldown: the next prompt goes to A again.
    await h.prompt("Again");
    assert.equal(h.lastAssistant().provider, "mock-a");
    assert.equal(textOf(h.lastAssistant()), "second prompt answer");
  });

  it("moves a context overflow to a target with a larger window", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "400 prompt is too long: 150000 tokens > 100000 maximum",
      }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B has room")]);
    await h.prompt("Summarise this");
    assert.equal(h.lastAssistant().provider, "mock-b");
  });

  it("surfaces a context overflow unchanged when no target has a larger window, so pi can compact", async () => {
    const h = await start({ routes: routes({}, ["mock-c/model-c", "mock-a/model-a"]) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    const overflow = "400 prompt is too long: 500000 tokens > 400000 maximum";
    h.faux("mock-c").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: overflow })]);
    await h.prompt("Summarise this");
    assert.equal(h.lastAssistant().errorMessage, overflow);
    assert.equal(h.faux("mock-a").state.callCount, 0);
  });

  it("lets pi compact and retry after the last target's overflow error, as it does on a real model", async () => {
    const h = await start({
      routes: routes({}, ["mock-c/model-c"]),
      settings: { compaction: { enabled: true, keepRecentTokens: 1 } },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    const overflow = "400 prompt is too long: 500000 tokens > 400000 maximum";
    // After the overflow: pi's summary requests (one or two, by pi version), then the retried prompt.
    h.faux("mock-c").setResponses([
      fauxAssistantMessage("first answer"),
      fauxAssistantMessage([], { stopReason: "error", errorMessage: overflow }),
      ...Array.from({ length: 4 }, () => fauxAssistantMessage("after the overflow")),
    ]);
    await h.prompt("first question");
    await h.prompt("second question");
    const compacted = () => h.events.findIndex((event) => event.type === "compaction_end");
    const answeredAfter = () =>
      h.events
        .map(
          (event) =>
            event.type === "message_end" && event.message.role === "assistant" && event.message.stopReason === "stop",
        )
        .lastIndexOf(true);
    await eventually(() => compacted() >= 0 && answeredAfter() > compacted(), "pi retries after compacting");
    assert.equal(h.events[compacted()].reason, "overflow");
    assert.equal(h.events[compacted()].willRetry, true);
    assert.equal(textOf(h.lastAssistant()), "after the overflow");
  });

  it("refuses a prompt longer than every target's window in words pi reads as an overflow, so pi compacts", async () => {
    const h = await start({
      routes: routes({}, ["mock-s/model-s"]),
      settings: { compaction: { enabled: true, keepRecentTokens: 1 } },
    });
    h.faux("mock-s").setResponses([h.fauxHelpers.fauxAssistantMessage("summary of the conversation")]);
    await h.prompt("word ".repeat(5_000));
    await eventually(() => h.events.some((event) => event.type === "compaction_end"), "pi's compaction ends");
    // pi 0.73.1 sends the prompt again after compacting (still too long: refused again; the newer lines do not). Awaited,
    // so that the retry does not reach the next test's targets (pi-ai's API registry and the faux targets are the
    // process's).
    const compactionEnd = h.events.findIndex((event) => event.type === "compaction_end");
    if (h.events[compactionEnd].willRetry)
      await eventually(
        () => h.events.slice(compactionEnd).some((event) => event.type === "agent_end"),
        "pi's retry after the compaction ends",
      );
    assert.match(
      h.events.find((e) => e.type === "message_end" && e.message.role === "assistant")?.message.errorMessage ?? "",
      /^auto-router: the prompt is too long for every target of route main \(mock-s\/model-s: context window 4000 < \d+ tokens needed\)\. Waiting will not change this/,
    );
    assert.equal(h.events.find((event) => event.type === "compaction_start")?.reason, "overflow");
  });

  it("caps a request asking more output than the target gives (pi's compaction summary), instead of refusing it", async () => {
    const h = await start({
      routes: routes({}, ["mock-o/model-o"]),
      settings: { compaction: { keepRecentTokens: 1 } },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    const asked: Array<number | undefined> = [];
    h.faux("mock-o").setResponses([
      fauxAssistantMessage("first answer"),
      (_context: unknown, options: { maxTokens?: number } | undefined) => {
        asked.push(options?.maxTokens);
        return fauxAssistantMessage("summary of the conversation");
      },
    ]);
    await h.prompt("first question");
    assert.equal(textOf(h.lastAssistant()), "first answer");
    const result = await h.session.compact();
    assert.match(result.summary, /summary of the conversation/);
    // pi 0.73.1 asks for 0.8 x reserveTokens (13,107) whatever the model gives, and the router caps it; 0.87.1 caps it
    // at the route's advertised limit itself, and 1.6.0 asks for no limit. On every line the target gets at most its own.
    assert.equal(asked.length, 1);
    assert.ok(asked[0] === undefined || asked[0] <= 8_000, `asked ${asked[0]}`);
    if (!process.env.PI_SDK) {
      assert.equal(asked[0], 8_000, "pi asked for more than 8,000 tokens; the target got its own limit");
      assert.match(
        await h.command("/auto-router explain"),
        /mock-o\/model-o.*max output 8000 < \d+ tokens asked: the answer is capped there/,
      );
    }
  });

  it("skips a target that pi's registry does not know", async () => {
    const h = await start({ routes: routes({}, ["nowhere/missing-model", "mock-b/model-b"]) });
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("from B")]);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().provider, "mock-b");
  });

  it("fails over when the first target gives no output within the first-token timeout", async () => {
    const h = await start({
      routes: routes({ timeouts: { firstTokenMs: 100 } }, ["mock-a/model-a", "mock-b/model-b"]),
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return fauxAssistantMessage("too late");
      },
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("in time")]);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(textOf(h.lastAssistant()), "in time");
  });

  it("tries a target again after its first-token timeout when its retryBeforeFailover lists timeout", async () => {
    const h = await start({
      routes: {
        routes: {
          main: {
            sortBy: "config",
            timeouts: { firstTokenMs: 100 },
            targets: [
              {
                provider: "mock-a",
                modelId: "model-a",
                retryBeforeFailover: { times: 1, kinds: ["timeout"], maxDelayMs: 10 },
              },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
      },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return fauxAssistantMessage("too late");
      },
      fauxAssistantMessage("A on its second try"),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("from B")]);
    await h.prompt("Say hi");
    assert.equal(textOf(h.lastAssistant()), "A on its second try");
    assert.equal(h.faux("mock-b").state.callCount, 0, "no failover");
    const final = () => readLoggedEvents(h.agentDir).find((event) => event.type === "final");
    await eventually(() => final() !== undefined, "the request's final event");
    assert.ok(
      final().data.notes?.some((note: string) =>
        /^retried mock-a\/model-a after timeout \(\d+ ms backoff, retry 1\)$/.test(note),
      ),
      JSON.stringify(final().data.notes),
    );
  });

  it("never cuts the last remaining candidate with the first-token timeout", async () => {
    const h = await start({ routes: routes({ timeouts: { firstTokenMs: 50 } }, ["mock-a/model-a"]) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        return fauxAssistantMessage("slow but only");
      },
    ]);
    await h.prompt("Say hi");
    assert.equal(textOf(h.lastAssistant()), "slow but only");
  });
});

describe("cooldowns", () => {
  it("honours a cooldown on the next prompt: the rate-limited target is not called again", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "429 Too Many Requests" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("one"), fauxAssistantMessage("two")]);
    await h.prompt("first");
    await h.prompt("second");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    assert.equal(h.faux("mock-b").state.callCount, 2);
    assert.equal(textOf(h.lastAssistant()), "two");
  });

  it("rests a target whose quota is used up or that is rate limited on every route naming it, each route's own policy deciding how long; a server error only on its own route", async () => {
    const target = (id: string) => ({ provider: `mock-${id}`, modelId: `model-${id}` });
    const h = await start({
      routes: {
        routes: {
          // main does not rest a target on a rate limit (its own policy), whichever route met it.
          main: {
            sortBy: "config",
            targets: [target("a"), target("b")],
            failover: { kinds: { rate_limit: { cooldownMs: 0 } } },
          },
          other: { sortBy: "config", targets: [target("a"), target("c"), target("o")] },
          third: { sortBy: "config", targets: [target("b"), target("c")] },
          fourth: { sortBy: "config", targets: [target("b"), target("o"), target("c")] },
        },
      },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    const quota = "429 You exceeded your current quota, please check your plan and billing details.";
    h.faux("mock-a").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: quota })]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage("B for main"),
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "429 Too Many Requests" }),
      fauxAssistantMessage("B for main again"),
    ]);
    h.faux("mock-c").setResponses([
      fauxAssistantMessage("C for other"),
      fauxAssistantMessage("C for third"),
      fauxAssistantMessage("C for fourth"),
    ]);
    h.faux("mock-o").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "500 Internal Server Error" }),
    ]);
    await h.prompt("first");
    await h.setModel("auto-router", "other");
    await h.prompt("second");
    assert.equal(textOf(h.lastAssistant()), "C for other");
    assert.equal(h.faux("mock-a").state.callCount, 1, "the used-up quota was not asked again through another route");
    assert.match(
      await h.command("/auto-router status"),
      /cooldowns:\n {2}main mock-a\/model-a: quota_exhausted, 60m left\n {2}other mock-a\/model-a: quota_exhausted, 60m left\n/,
    );
    // A rate limit met on route third rests B there and on fourth (the default 60 s), not on main (cooldownMs 0).
    await h.setModel("auto-router", "third");
    await h.prompt("third");
    assert.equal(textOf(h.lastAssistant()), "C for third");
    await h.setModel("auto-router", "fourth");
    await h.prompt("fourth");
    assert.equal(textOf(h.lastAssistant()), "C for fourth");
    assert.equal(h.faux("mock-b").state.callCount, 2, "the rate-limited target was not asked again through fourth");
    const status = await h.command("/auto-router status");
    assert.match(status, / {2}third mock-b\/model-b: rate_limit, 60s left\n/);
    assert.match(status, / {2}fourth mock-b\/model-b: rate_limit, 60s left\n/);
    assert.doesNotMatch(status, /main mock-b/);
    // O's server error on fourth rests it there only: route other, which names it too, does not have it resting.
    assert.match(status, / {2}fourth mock-o\/model-o: server, 30s left\n/);
    assert.doesNotMatch(status, /other mock-o/);
    await h.setModel("auto-router", "main");
    await h.prompt("fifth");
    assert.equal(textOf(h.lastAssistant()), "B for main again");
  });

  it("keeps cooldowns across a restart of pi (persisted in the state directory)", async () => {
    const stateDir = freshDir("auto-router-state");
    try {
      let h = await start({ env: { AUTO_ROUTER_LOG_DIR: stateDir } });
      h.faux("mock-a").setResponses([
        h.fauxHelpers.fauxAssistantMessage([], { stopReason: "error", errorMessage: "429 Too Many Requests" }),
      ]);
      h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("one")]);
      await h.prompt("first");
      await h.dispose(); // flushes the stores (session_shutdown)
      harness = undefined;
      h = await start({ env: { AUTO_ROUTER_LOG_DIR: stateDir } });
      h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("A should be cooling")]);
      h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("B again")]);
      await h.prompt("second");
      assert.equal(h.faux("mock-a").state.callCount, 0);
      assert.equal(textOf(h.lastAssistant()), "B again");
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("waits for a target whose cooldown ends within the wait limit instead of failing", async () => {
    const h = await start({ routes: routes({}, ["mock-a/model-a", "mock-b/model-b"]) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 Rate limit reached. Please try again in 1s.",
      }),
      fauxAssistantMessage("A after the wait"),
    ]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 Rate limit reached. Please try again in 20s.",
      }),
    ]);
    const shown = statusHistory(h);
    await h.prompt("Say hi");
    assert.equal(textOf(h.lastAssistant()), "A after the wait");
    assert.equal(h.faux("mock-a").state.callCount, 2);
    // The status line counts the wait down (it showed one number for the whole wait).
    const counts = shown.flatMap((text) => /waiting (\d+)s for mock-a\/model-a/.exec(text)?.[1] ?? []);
    assert.ok(new Set(counts).size >= 2, `the wait was shown as ${JSON.stringify(counts)}`);
    assert.deepEqual(
      [...counts].sort((a, b) => Number(b) - Number(a)),
      counts,
      "counting down",
    );
  });

  it("names a target that failed again after the wait once, with the count of its attempts", async () => {
    const h = await start({ routes: routes({}, ["mock-a/model-a", "mock-b/model-b"]) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    const limited = fauxAssistantMessage([], {
      stopReason: "error",
      errorMessage: "429 Rate limit reached. Please try again in 1s.",
    });
    h.faux("mock-a").setResponses([limited, limited]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 Rate limit reached. Please try again in 20s.",
      }),
    ]);
    await h.prompt("Say hi");
    assert.equal(h.faux("mock-a").state.callCount, 2, "tried again after its 1 s cooldown");
    assert.match(
      h.lastAssistant().errorMessage ?? "",
      /\(mock-a\/model-a: [a-z ]+ \(2 attempts\); mock-b\/model-b: [a-z ]+\)/,
    );
    assert.doesNotMatch(h.lastAssistant().errorMessage ?? "", /mock-a\/model-a: [^;)]+; mock-a\/model-a/);
  });

  it("fails at once, saying when a target is available, when every cooldown is longer than the wait", async () => {
    const h = await start({
      routes: routes({ failover: { cooldownWaitMs: 1000 } }, ["mock-a/model-a", "mock-b/model-b"]),
      // pi's agent retry on: the text must not invite it (nothing can serve before the cooldowns end).
      settings: { retry: { enabled: true, maxRetries: 3, baseDelayMs: 10 } },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 Rate limit reached. Please try again in 60s.",
      }),
    ]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 Rate limit reached. Please try again in 90s.",
      }),
    ]);
    await h.prompt("first");
    await h.session.agent?.waitForIdle?.();
    // Transient failures, but nothing back within pi's first retry and the wait: the error says when, asks no retry.
    assert.equal(h.lastAssistant().stopReason, "error");
    assert.match(
      h.lastAssistant().errorMessage,
      /^auto-router: every target of route main failed \(mock-a\/model-a: throttled; mock-b\/model-b: throttled\); the first back is mock-a\/model-a at \d\d:\d\d:\d\d \(in (59|60)s\), later than failover\.cooldownWaitMs \(1s\) lets a request wait: sent again before then, it finds every target still resting\. See \/auto-router explain main$/,
    );
    assert.ok(!h.events.some((e) => e.type === "auto_retry_start"), "pi did not retry the first prompt");
    const before = h.events.length;
    await h.prompt("second");
    await h.session.agent?.waitForIdle?.();
    const last = h.lastAssistant();
    assert.equal(last.stopReason, "error");
    assert.match(last.errorMessage, /no target of route main is available now/);
    assert.match(last.errorMessage, /First available: mock-a\/model-a at /);
    // In plain words, without the providers' texts (which carry the words pi retries on).
    assert.match(
      last.errorMessage,
      /\(mock-a\/model-a: resting \(throttled\); mock-b\/model-b: resting \(throttled\)\)/,
    );
    assert.ok(!h.events.slice(before).some((e) => e.type === "auto_retry_start"), "pi did not retry");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    // No target was called: the router turned the request away, logged and shown as refused (as a hard budget's
    // refusal is), so the reports count it apart from requests whose attempts failed. The first prompt is one
    // request: its error asked pi for no retry, which would only have met the targets resting.
    const finals = () => readLoggedEvents(h.agentDir).filter((event) => event.type === "final");
    await eventually(() => finals().length === 2, "the requests' final events");
    assert.deepEqual(
      finals().map((event) => [event.data.outcome, event.data.attempts]),
      [
        ["failed", 2],
        ["refused", 0],
      ],
    );
    assert.match(await h.command("/auto-router explain"), /outcome: refused/);
  });
});

describe("when every target fails", () => {
  it("names the route and each target's failure", async () => {
    const h = await start({ routes: routes({}, ["mock-a/model-a", "mock-b/model-b"]) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "402 Insufficient credits" }),
    ]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 invalid x-api-key" }),
    ]);
    await h.prompt("Say hi");
    const last = h.lastAssistant();
    assert.equal(last.stopReason, "error");
    assert.equal(
      last.errorMessage,
      "auto-router: no target of route main could serve this request (mock-a/model-a: quota used up; mock-b/model-b: credentials rejected). See /auto-router explain main",
    );
  });

  it("quotes the start of a failure of no known kind, redacted, since 'failed' alone says nothing", async () => {
    const h = await start({
      routes: routes({ failover: { cooldownWaitMs: 0 } }, ["mock-a/model-a", "mock-b/model-b"]),
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    const long = `mock-a/model-a: Upstream said:\n  the frobnicator is ${"very ".repeat(40)}confused`;
    h.faux("mock-a").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage: long })]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "bad token sk-ant-api03-abcdefghijklmnopqrstuvwx",
      }),
    ]);
    await h.prompt("Say hi");
    const last = h.lastAssistant();
    assert.equal(last.stopReason, "error");
    const text = last.errorMessage.replaceAll("\u2060", "");
    // The target's key the message starts with is not repeated.
    const quoted = `Upstream said: the frobnicator is ${"very ".repeat(40)}`.slice(0, 159);
    assert.equal(
      text,
      `auto-router: no target of route main could serve this request (mock-a/model-a: failed (${quoted}…); mock-b/model-b: failed (bad token [REDACTED])). See /auto-router explain main`,
    );
  });

  /**
   * Both targets rate-limited for 150 ms, longer than the router's own wait limit (0): only pi's agent-level retry
   * (when it runs) can serve, from mock-a's second answer.
   */
  async function everyTargetRateLimited(failover: Record<string, unknown>, retryDelayMs: number) {
    const h = await start({
      routes: routes({ failover: { cooldownWaitMs: 0, ...failover } }, ["mock-a/model-a", "mock-b/model-b"]),
      settings: { retry: { enabled: true, maxRetries: 1, baseDelayMs: retryDelayMs } },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    const limited = fauxAssistantMessage([], {
      stopReason: "error",
      errorMessage: "429 Too Many Requests. Please try again in 0.15s",
    });
    h.faux("mock-a").setResponses([limited, fauxAssistantMessage("A on pi's retry")]);
    h.faux("mock-b").setResponses([limited]);
    await h.prompt("Say hi");
    await h.session.agent?.waitForIdle?.();
    return h;
  }

  it("lets pi's agent-level retry re-run the route when every failure was transient", async () => {
    const h = await everyTargetRateLimited({}, 400);
    assert.ok(
      h.events.some((e) => e.type === "auto_retry_start"),
      "pi's retry ran",
    );
    assert.equal(textOf(h.lastAssistant()), "A on pi's retry");
  });

  it("reads pi's retry.baseDelayMs: a retry that would come before every target is back is not asked for", async () => {
    // pi's retry 10 ms after the failure would find both targets resting (150 ms): the error says when one is back.
    const h = await everyTargetRateLimited({}, 10);
    assert.ok(!h.events.some((e) => e.type === "auto_retry_start"), "pi did not retry");
    assert.equal(h.lastAssistant().stopReason, "error");
    assert.match(
      h.lastAssistant().errorMessage,
      /^auto-router: every target of route main failed \(mock-a\/model-a: throttled; mock-b\/model-b: throttled\); the first back is mock-a\/model-a at /,
    );
    assert.equal(h.faux("mock-a").state.callCount, 1);
  });

  it("rests nothing after a server error on a route with one target: pi's retry is served after its own delay, with no wait for a cooldown", async () => {
    const h = await start({
      routes: routes({}, ["mock-a/model-a"]),
      settings: { retry: { enabled: true, maxRetries: 1, baseDelayMs: 50 } },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "500 Internal Server Error" }),
      fauxAssistantMessage("A on pi's retry"),
    ]);
    await h.prompt("Say hi");
    await h.session.agent?.waitForIdle?.();
    assert.ok(
      h.events.some((e) => e.type === "auto_retry_start"),
      "pi's retry ran",
    );
    assert.equal(textOf(h.lastAssistant()), "A on pi's retry");
    assert.equal(h.faux("mock-a").state.callCount, 2);
    const status = await h.command("/auto-router status");
    assert.match(status, /\ncooldowns: none\n/, "the route's only target does not rest");
    const events = () => readLoggedEvents(h.agentDir);
    await eventually(() => events().filter((e) => e.type === "final").length === 2, "both requests' final events");
    assert.deepEqual(
      events().filter((e) => e.type === "wait"),
      [],
      "pi's retry did not wait for a rest",
    );
    // The failed attempt is logged without a cooldown: none was set.
    const failed = events().find((e) => e.type === "result" && e.data.failureKind === "server");
    assert.ok(failed, "the failed attempt's result");
    assert.equal(failed.data.cooldownMs, undefined);
  });

  it("still rests a route's only target for the time the provider named with its server error", async () => {
    // No wait inside the request: the rest is what the next request meets.
    const h = await start({ routes: routes({ failover: { cooldownWaitMs: 0 } }, ["mock-a/model-a"]) });
    h.faux("mock-a").setResponses([
      h.fauxHelpers.fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "503 Service Unavailable. Please try again in 20s.",
      }),
    ]);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().stopReason, "error");
    assert.match(await h.command("/auto-router status"), /\ncooldowns:\n {2}main mock-a\/model-a: server, 20s left\n/);
  });

  it("keeps pi's agent-level retry out with failover.agentRetry: false, even after transient failures", async () => {
    const h = await everyTargetRateLimited({ agentRetry: false }, 10);
    assert.ok(!h.events.some((e) => e.type === "auto_retry_start"), "pi did not retry");
    assert.equal(h.lastAssistant().stopReason, "error");
    assert.match(h.lastAssistant().errorMessage, /^auto-router: no target of route main could serve this request/);
    assert.equal(h.faux("mock-a").state.callCount, 1);
  });

  it("stops pi's agent-level retry when the failures will not go away by retrying", async () => {
    const h = await start({
      routes: routes({}, ["mock-a/model-a", "mock-b/model-b"]),
      settings: { retry: { enabled: true, maxRetries: 1, baseDelayMs: 10 } },
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 You exceeded your current quota, please check your plan and billing details.",
      }),
    ]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "401 invalid x-api-key" }),
    ]);
    await h.prompt("Say hi");
    assert.ok(!h.events.some((e) => e.type === "auto_retry_start"), "pi did not retry");
    assert.equal(h.lastAssistant().stopReason, "error");
  });
});

describe("failover.maxAttempts", () => {
  const unavailable = (h: SdkHarness) =>
    h.fauxHelpers.fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" });
  const callCounts = (h: SdkHarness) => ["mock-a", "mock-b", "mock-c"].map((p) => h.faux(p).state.callCount);

  it("tries at most that many targets for one request, the route's own setting before the top-level one", async () => {
    // Top level 1, the route 2: two targets tried, the third (which would have served) never called.
    const h = await start({ routes: { failover: { maxAttempts: 1 }, ...routes({ failover: { maxAttempts: 2 } }) } });
    h.faux("mock-a").setResponses([unavailable(h)]);
    h.faux("mock-b").setResponses([unavailable(h)]);
    h.faux("mock-c").setResponses([h.fauxHelpers.fauxAssistantMessage("Hello from C")]);
    const shown = statusHistory(h);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().stopReason, "error");
    assert.match(h.lastAssistant().errorMessage, /mock-a\/model-a: .*mock-b\/model-b: /);
    // The third target was never tried: "every target failed" names it as such, and why, not as one that failed.
    assert.match(
      h.lastAssistant().errorMessage,
      /; not tried: mock-c\/model-c: no attempt left \(failover\.maxAttempts 2 used up\)\)/,
    );
    assert.deepEqual(callCounts(h), [1, 1, 0]);
    const final = () => readLoggedEvents(h.agentDir).find((event) => event.type === "final");
    await eventually(() => final() !== undefined, "the request's final event");
    assert.deepEqual(final().data.notes, ["not tried: mock-c/model-c (failover.maxAttempts 2 used up)"]);
    assert.ok(shown.length > 0, "the status line was followed");
    assert.deepEqual(
      shown.filter((text) => /waiting/.test(text)),
      [],
      "no wait for a cooling target once the attempts are used up",
    );
  });

  it("applies the top-level setting to a route without its own", async () => {
    const h = await start({ routes: { failover: { maxAttempts: 1 }, ...routes() } });
    h.faux("mock-a").setResponses([unavailable(h)]);
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("Hello from B")]);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().stopReason, "error");
    assert.deepEqual(callCounts(h), [1, 0, 0]);
  });

  it("counts a retry on the same target as an attempt", async () => {
    const h = await start({
      routes: {
        routes: {
          main: {
            sortBy: "config",
            failover: { maxAttempts: 2 },
            targets: [
              {
                provider: "mock-a",
                modelId: "model-a",
                retryBeforeFailover: { times: 2, kinds: ["server"], maxDelayMs: 10 },
              },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
        },
      },
    });
    h.faux("mock-a").setResponses([unavailable(h), unavailable(h), unavailable(h)]);
    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("Hello from B")]);
    await h.prompt("Say hi");
    assert.equal(h.lastAssistant().stopReason, "error");
    assert.deepEqual(callCounts(h), [2, 0, 0], "the first try and one retry, then no attempt is left");
  });

  it("classifies a failure whose error type is named like a member of every object by its status", async () => {
    // The type was looked up as a failure kind, Object's constructor came back, and the classifier threw: the 500 was
    // booked as a failure of no known kind.
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    const errorMessage = '500 {"type":"error","error":{"type":"constructor","message":"x"}}';
    h.faux("mock-a").setResponses([fauxAssistantMessage([], { stopReason: "error", errorMessage })]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("Hello from B")]);
    await h.prompt("Say hi");
    assert.equal(textOf(h.lastAssistant()), "Hello from B");
    assert.match(await h.command("/auto-router explain"), /1\. mock-a\/model-a: failed \(server, HTTP 500, /);
  });

  it("by default tries every target of a three-target route", async () => {
    const h = await start();
    h.faux("mock-a").setResponses([unavailable(h)]);
    h.faux("mock-b").setResponses([unavailable(h)]);
    h.faux("mock-c").setResponses([h.fauxHelpers.fauxAssistantMessage("Hello from C")]);
    await h.prompt("Say hi");
    assert.equal(textOf(h.lastAssistant()), "Hello from C");
    assert.deepEqual(callCounts(h), [1, 1, 1]);
  });
});

describe("stickiness", () => {
  it("keeps a prompt's tool-call turns on the target that served its first turn; the status line counts the prompt's failover over them", async () => {
    const h = await start({
      routes: routes({ failover: { kinds: { overloaded: { cooldownMs: 0 } } } }, ["mock-a/model-a", "mock-b/model-b"]),
      tools: ["echo"],
    });
    const { fauxAssistantMessage, fauxToolCall } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "529 overloaded_error" }),
      fauxAssistantMessage("A answers the next prompt"),
    ]);
    h.faux("mock-b").setResponses([
      fauxAssistantMessage(fauxToolCall("echo", { text: "ping" }), { stopReason: "toolUse" }),
      fauxAssistantMessage("B finished after the tool"),
    ]);
    await h.prompt("Use echo");
    assert.equal(textOf(h.lastAssistant()), "B finished after the tool");
    assert.equal(h.lastAssistant().provider, "mock-b");
    assert.equal(h.faux("mock-a").state.callCount, 1, "the tool turn did not go back to mock-a");
    assert.equal(h.faux("mock-b").state.callCount, 2);
    const line = () => h.ui!.statuses.get("auto-router") ?? "";
    // The tool turn had no failover of its own: the line still counts the prompt's (not "→ mock-b/model-b" alone).
    assert.match(line(), /^⇄ main · → mock-b\/model-b \(1 failover\)/);
    await h.prompt("Say hi");
    assert.equal(textOf(h.lastAssistant()), "A answers the next prompt");
    assert.match(line(), /^⇄ main · → mock-a\/model-a(?! \()/);
  });
});

describe("one prompt, one decision", () => {
  it("starts the next prompt on the route's first choice again after the previous one failed over", async () => {
    const h = await start({
      routes: routes({ failover: { kinds: { overloaded: { cooldownMs: 0 } } } }, ["mock-a/model-a", "mock-b/model-b"]),
    });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "529 overloaded_error" }),
      fauxAssistantMessage("A again"),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("B once")]);
    await h.prompt("first");
    assert.equal(h.lastAssistant().provider, "mock-b");
    await h.prompt("second");
    assert.equal(textOf(h.lastAssistant()), "A again");
  });
});

describe("status line", () => {
  it("names the route, the target that served and the failover count", async () => {
    const h = await start();
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], { stopReason: "error", errorMessage: "429 Too Many Requests" }),
    ]);
    h.faux("mock-b").setResponses([fauxAssistantMessage("Hello from B")]);
    await h.prompt("Say hi");
    const status = h.ui!.statuses.get("auto-router")!;
    assert.match(status, /^⇄ main/);
    assert.match(status, /→ mock-b\/model-b \(1 failover\)/);
    assert.ok(status.length <= 78, `fits 80 columns: ${status.length}`);
  });

  it("shows the streaming request's own failover count, not the previous request's", async () => {
    const h = await start({ routes: routes({}, ["mock-a/model-a", "mock-t/model-t"]) });
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([
      fauxAssistantMessage([], {
        stopReason: "error",
        errorMessage: "429 Rate limit reached. Please try again in 60s.",
      }),
    ]);
    const answer = "An answer long enough to arrive in several pieces, one turn of the event loop after another.";
    h.faux("mock-t").setResponses([fauxAssistantMessage(answer), fauxAssistantMessage(answer)]);
    // The line while a target streams: its name without the ellipsis of a pending attempt.
    const streaming = (shown: string[]) => shown.filter((text) => /· → mock-t\/model-t(?!…)/.test(text));

    const first = statusHistory(h);
    await h.prompt("first");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    assert.ok(streaming(first).length >= 2, `shown while streaming and at the end: ${JSON.stringify(first)}`);
    for (const text of streaming(first)) assert.match(text, /→ mock-t\/model-t \(1 failover\)/);

    // mock-a cools down: the second request goes straight to mock-t.
    const second = statusHistory(h);
    await h.prompt("second");
    assert.equal(h.faux("mock-a").state.callCount, 1);
    assert.ok(streaming(second).length >= 2, `shown while streaming and at the end: ${JSON.stringify(second)}`);
    for (const text of streaming(second)) assert.doesNotMatch(text, /failover/);
  });

  it("is cleared when a model other than auto-router is selected", async () => {
    const h = await start();
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("hi")]);
    await h.prompt("Say hi");
    assert.ok(h.ui!.statuses.get("auto-router"));
    await h.setModel("mock-a", "model-a");
    assert.equal(h.ui!.statuses.get("auto-router"), undefined);
  });
});
