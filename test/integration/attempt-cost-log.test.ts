// What a request's attempts cost, as the event log and the routing-* scripts tell it, through real pi (SDK in-process,
// faux targets) and the scripts run as an operator runs them: a failed attempt's spend is its own provider's in
// routing-stats and part of the final's cost; an answer whose stream brought no usage says so, not "zero tokens"; the
// scripts find pi's agent dir when PI_CODING_AGENT_DIR starts with `~`, and take `--route auto-router/<alias>`.
import assert from "node:assert/strict";
import { basename, dirname } from "node:path";
import { afterEach, describe, it } from "node:test";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { runRoutingScript, routingScriptJson } from "../helpers/routing-script.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { zeroUsage } from "../../src/runtime/zero-usage.ts";

/**
 * USD per 1M tokens: faux answers report tokens but never a cost, so the budget prices them with these. The prompt is
 * counted as input on pi 0.73 and as a cache write on the newer lines' faux provider: both are priced.
 */
const PRICE = { input: 10, output: 30, cacheRead: 1, cacheWrite: 10 };
const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a", cost: PRICE }] },
  { provider: "mock-b", models: [{ id: "model-b", cost: PRICE }] },
];
const ROUTES = {
  aliases: { cheap: "main" },
  routes: {
    main: {
      targets: [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-b", modelId: "model-b" },
      ],
    },
  },
};

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is ${expected}`);

async function routedOnce(setUp: (h: SdkHarness) => void): Promise<any[]> {
  harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES });
  setUp(harness);
  await harness.setModel("auto-router", "main");
  await harness.prompt("Say hi");
  await until(
    () => readLoggedEvents(harness!.agentDir).some((event) => event.type === "final"),
    "the request's final event",
  );
  return readLoggedEvents(harness.agentDir);
}

/** The script run on the harness's own log and routes file, with PI_CODING_AGENT_DIR written as `~/<dir>`. */
const scriptEnv = (agentDir: string) => ({ HOME: dirname(agentDir), PI_CODING_AGENT_DIR: `~/${basename(agentDir)}` });

describe("attempt costs in the event log and routing-stats", () => {
  it("books a failed attempt's spend under its own provider, and the final's cost is the whole request's", async () => {
    const events = await routedOnce((h) => {
      const { fauxAssistantMessage } = h.fauxHelpers;
      // The prompt is counted (and charged) before the provider fails: the usage of the failed attempt.
      h.faux("mock-a").setResponses([
        fauxAssistantMessage([], { stopReason: "error", errorMessage: "503 Service Unavailable" }),
      ]);
      h.faux("mock-b").setResponses([fauxAssistantMessage("Hello from B")]);
    });
    assert.equal(harness!.lastAssistant().provider, "mock-b");
    const usage = events.filter((event) => event.type === "usage");
    assert.deepEqual(
      usage.map((event) => event.data.provider),
      ["mock-a", "mock-b"],
    );
    const [failedUsd, servedUsd] = usage.map((event) => event.data.costUsd as number);
    assert.ok(failedUsd! > 0 && servedUsd! > 0, "both attempts were charged");
    const final = events.find((event) => event.type === "final");
    assert.equal(final.data.servedTarget, "mock-b/model-b");
    close(final.data.costUsd, failedUsd! + servedUsd!);

    const { stats } = await routingScriptJson("routing-stats", [], scriptEnv(harness!.agentDir));
    close(stats.totalCostUsd, failedUsd! + servedUsd!);
    const byProvider = Object.fromEntries(
      stats.byServedProvider.map((row: any) => [row.key, [row.requests, row.costUsd]]),
    );
    assert.deepEqual(Object.keys(byProvider).sort(), ["mock-a", "mock-b"]);
    assert.equal(byProvider["mock-a"][0], 0, "mock-a served nothing");
    close(byProvider["mock-a"][1], failedUsd!);
    assert.equal(byProvider["mock-b"][0], 1);
    close(byProvider["mock-b"][1], servedUsd!);
    // routing-session-stats books the same spend per model: the reports agree.
    const session = (await routingScriptJson("routing-session-stats", [], scriptEnv(harness!.agentDir))).stats;
    assert.deepEqual(session.models.map((row: any) => row.model).sort(), ["mock-a/model-a", "mock-b/model-b"]);
    for (const row of session.models)
      close(row.costUsd.total, row.model === "mock-a/model-a" ? failedUsd! : servedUsd!);
  });

  it("says an answer whose stream brought no usage was estimated, not that zero tokens were reported", async () => {
    const events = await routedOnce((h) => {
      const { fauxAssistantMessage, getApiProvider, registerApiProvider } = h.fauxHelpers;
      // pi-ai starts every answer with a usage of zeros and keeps them when the provider sends none.
      const faux = getApiProvider("faux-mock-a");
      registerApiProvider({
        ...faux,
        streamSimple: (model: any, context: any, options: any) => {
          const stream = faux.streamSimple(model, context, options);
          const push = stream.push.bind(stream);
          stream.push = (event: any) => {
            const message = event.partial ?? event.message ?? event.error;
            if (message?.usage) Object.assign(message.usage, zeroUsage());
            push(event);
          };
          return stream;
        },
      });
      h.faux("mock-a").setResponses([fauxAssistantMessage("An answer of some length from A, without any usage.")]);
    });
    assert.equal(harness!.lastAssistant().provider, "mock-a");
    const usage = events.find((event) => event.type === "usage");
    assert.equal(usage.data.estimated, true);
    assert.match(usage.data.estimateReason, /usage missing \(all zero tokens: the provider reported none\)/);
    assert.match(usage.data.estimateReason, /output from the text length|output estimated from the text length/);
    assert.doesNotMatch(usage.data.estimateReason, /zero tokens reported/);
    assert.ok(usage.data.output > 0 && usage.data.costUsd > 0, "the estimate is counted");
    const result = events.find((event) => event.type === "result");
    assert.equal(result.data.usage, undefined, "the result logs no usage it was not given");
    close(events.find((event) => event.type === "final").data.costUsd, usage.data.costUsd);
    const run = await runRoutingScript("routing-stats", [], scriptEnv(harness!.agentDir));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /estimated for 1 attempt\)/);
  });

  it("reads --route auto-router/<alias> as the alias", async () => {
    await routedOnce((h) => h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("Hello from A")]));
    for (const route of ["cheap", "auto-router/cheap", "auto-router/main"]) {
      const run = await runRoutingScript("routing-stats", ["--route", route, "--json"], scriptEnv(harness!.agentDir));
      assert.equal(run.code, 0, run.stderr);
      const { log, stats } = JSON.parse(run.stdout);
      assert.equal(stats.requests, 1, `--route ${route}`);
      assert.equal(log.route.routeId, "main");
      assert.doesNotMatch(run.stderr, /no requests/);
    }
  });
});
