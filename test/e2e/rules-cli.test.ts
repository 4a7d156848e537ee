// What the policy rules decided, said as such through the real pi CLI: a capability a rule asks for names the rule,
// a fallback rules alone caused names the rules (no budget is involved), and `/auto-router rules` on an invalid routes
// file says the file is invalid and no rule is loaded rather than "no policy rules configured".
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { makeAgentDir, routeInOrder } from "../helpers/agent-dir.ts";
import { type EmulatedAgent, startEmulatedAgent, TWO_OPENAI_PROVIDERS } from "../helpers/emulated-agent.ts";
import { runPi } from "../helpers/pi-cli.ts";

describe("pi CLI: what policy rules decided", () => {
  let dir: EmulatedAgent<"A" | "B">;
  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      // Text-only models (no `input` with "image").
      providers: TWO_OPENAI_PROVIDERS,
      routes: {
        routes: {
          seeing: {
            ...routeInOrder("mock-a/model-a", "mock-b/model-b"),
            policyRules: [{ id: "vision-all", type: "force-constraint", constraint: { vision: true } }],
          },
          lone: routeInOrder("mock-b/model-b"),
        },
        policyRules: [{ id: "no-b", type: "exclude-provider", providers: ["mock-b"], routes: ["lone"] }],
      },
    });
  });
  after(() => dir?.stop());
  beforeEach(() => dir.reset());

  it("names the rule that asked for image input when no target of the route takes images", async () => {
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/seeing", "-p", "hello"] });
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /auto-router: route seeing has no target that accepts images \(mock-a\/model-a: no image input; mock-b\/model-b: no image input\), which rule vision-all asks for\. Waiting will not change this: change that rule \(or its condition\), or add such a target to this route\./,
    );
    assert.equal(dir.emulators.A.calls.length + dir.emulators.B.calls.length, 0);
  });

  it("says a fallback rules alone caused is the rules', with no budget policy in it", async () => {
    const run = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/lone", "-p", "hello", "/auto-router explain"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /^Fallback: every target was left out by policy rules \(no-b: excludes mock-b\), and rules never leave a route without a target: routing on 1 of them in declared order$/m,
    );
    assert.doesNotMatch(run.stderr, /budget policy/);
    assert.equal(dir.emulators.B.calls.length, 1);
  });
});

describe("pi CLI: /auto-router rules on an invalid routes file", () => {
  it("says the file is invalid and that no rule is loaded, not that none is configured", async () => {
    const agent = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: "http://127.0.0.1:9",
          api: "openai-completions",
          apiKey: "sk-x",
          models: [{ id: "model-a" }],
        },
      },
      routes: {
        routes: {
          main: {
            targets: [{ provider: "mock-a", modelId: "model-a" }],
            policyRules: [{ id: "only-a", type: "require-provider", providers: ["mock-a"] }],
          },
        },
        tiers: { fast: "main" }, // a tier is an object: the file is invalid, and no good copy exists yet
        policyRules: [{ id: "top", type: "exclude-provider", providers: ["mock-b"] }],
      },
    });
    try {
      const run = await runPi({
        agentDir: agent.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router rules"],
      });
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        /^auto-router: \S+auto-router\.routes\.json:\d+:\d+ at tiers\.fast: .+; INVALID, no good copy yet: its routes fail every request until it is fixed\nno policy rules are loaded: the file's rules apply once it is fixed$/m,
      );
      assert.doesNotMatch(run.stderr, /no policy rules configured/);
      // The shortcuts say so too, and name no tier route: the built-in config's are not routes of this pi.
      const shortcuts = await runPi({
        agentDir: agent.agentDir,
        args: ["--model", "auto-router/main", "-p", "/auto-router shortcuts"],
      });
      assert.match(shortcuts.stderr, /INVALID, no good copy yet/);
      assert.match(shortcuts.stderr, /@reasoning +hard problems: reasoning models only \(the active route\)/);
      assert.doesNotMatch(shortcuts.stderr, /subscription-/);
    } finally {
      agent.cleanup();
    }
  });
});
