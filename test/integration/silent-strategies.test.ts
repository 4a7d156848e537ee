// Strategies that silently do nothing are said once per session through real pi: a notice and a `warning` event
// the first time, the status line and /auto-router status while they last.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { harnessPerTest } from "../helpers/sdk-harness.ts";
import { readEventLogFile } from "../helpers/event-log.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];

const harnesses = harnessPerTest();

describe("strategies that silently do nothing", () => {
  it("warns once per cause, shows it in the status line and in /auto-router status", async () => {
    const h = await harnesses.start(
      {
        targets: TARGETS,
        routes: {
          routes: {
            main: routeInOrder("mock-a/model-a", "mock-b/model-b"),
          },
          policyRules: [{ id: "no-openai", type: "exclude-provider", providers: ["openai"] }],
          budgets: { providers: { deepseek: { daily: 5 } } },
        },
      },
      "auto-router-silent",
    );
    await h.setModel("auto-router", "main");
    const { fauxAssistantMessage } = h.fauxHelpers;
    h.faux("mock-a").setResponses([fauxAssistantMessage("one"), fauxAssistantMessage("two")]);
    await h.prompt("first");
    await h.prompt("second");

    const notices = h
      .ui!.notifications.map((n) => n.message)
      .filter((m) => /which no route has|no target bills to/.test(m));
    // Each names the place in the routes file (file:line:column of the provider's name, of the budget).
    const file = join(h.agentDir, "extensions", "auto-router.routes.json");
    assert.deepEqual(notices, [
      `auto-router: ${file}:22:9: policyRules[0] (no-openai) names the provider "openai", which no route has: it never matches anything`,
      `auto-router: ${file}:28:19: budgets.providers.deepseek is set, but no target bills to deepseek: the budget never applies`,
    ]);
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /2 config warnings/);
    const status = await h.command("/auto-router status");
    assert.match(status, /strategies that do nothing:\n {2}policyRules\[0\] \(no-openai\) names the provider "openai"/);
    assert.match(status, /budgets\.providers\.deepseek is set, but no target bills to deepseek/);

    const dir = harnesses.stateDir;
    await harnesses.stop(); // flushes the event log
    const warnings = readEventLogFile(join(dir, "auto-router.events.jsonl")).filter(
      (event) => event.type === "warning",
    );
    assert.deepEqual(
      warnings.map((event) => event.data.code),
      ["unknown-provider:policyRules[0] (no-openai):openai", "budget-unused:deepseek"],
    );
  });

  it("counts a monthly budget as a quota source for hard quota mode, and says hard mode is idle only without one", async () => {
    const idle = /quota hard mode is on, but no target has a quota source/;
    const statusWith = async (budgets?: unknown) => {
      const h = await harnesses.start({
        targets: TARGETS,
        routes: { routes: { main: routeInOrder("mock-a/model-a", "mock-b/model-b") }, ...(budgets ? { budgets } : {}) },
        env: { AUTO_ROUTER_UVI_HARD: "1" },
      });
      await h.setModel("auto-router", "main");
      return h.command("/auto-router status");
    };
    assert.match(await statusWith(), idle);
    // A per-token provider's monthly budget is a window hard mode can exclude it for.
    const budgeted = await statusWith({ providers: { "mock-a": { monthly: 10 } } });
    assert.match(budgeted, /^routes: main$/m);
    assert.doesNotMatch(budgeted, idle);
  });

  it("says nothing of an alias naming a model no route has, which switches to it; names one pi does not know", async () => {
    const h = await harnesses.start(
      {
        targets: TARGETS,
        routes: {
          routes: { main: routeInOrder("mock-a/model-a") },
          // The earlier router's list form: its first name is a provider pi does not know, the second works.
          aliases: { bee: "mock-b/model-b", claude: ["claude-agent-sdk/claude-opus-4-6", "mock-b/model-b"] },
        },
      },
      "auto-router-silent-alias",
    );
    const status = await h.command("/auto-router status");
    const said = h.ui!.notifications.map((n) => n.message).join("\n");
    assert.doesNotMatch(said, /never matches anything/);
    assert.doesNotMatch(status, /strategies that do nothing/);
    // The one name that does nothing is said once, at its place in the file, like a route's unknown target.
    const file = join(h.agentDir, "extensions", "auto-router.routes.json");
    assert.deepEqual(
      h.ui!.notifications.map((n) => n.message).filter((message) => /^auto-router: .*is not known to pi/.test(message)),
      [`auto-router: ${file}:16:7 at aliases.claude[0]: provider 'claude-agent-sdk' is not known to pi`],
    );
    assert.match(
      status,
      /^ {2}warning: line 16, column 7 at aliases\.claude\[0\]: provider 'claude-agent-sdk' is not known to pi$/m,
    );
    assert.match(await h.command("/auto-router switch bee"), /switched to mock-b\/model-b \(alias bee\)/);
    assert.match(await h.command("/auto-router switch claude"), /switched to mock-b\/model-b \(alias claude\)/);
  });
});
