// The real pi CLI with the extension against local HTTP emulators, for what a prompt's shortcuts and the routes file's
// rules do when they are written wrong: a mistyped shortcut is sent as text with a warning that says how to write it,
// a prompt of shortcuts alone ends a print-mode run with exit 1, and a rule naming a mistyped provider or target says
// which one it was probably meant to be.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { RecordedCall } from "../helpers/sse-emulator-core.ts";

/** The text of the last user message an OpenAI-protocol emulator received. */
function lastUserText(call: RecordedCall): string {
  const user = (call.body.messages as Array<{ role: string; content: unknown }>)
    .filter((m) => m.role === "user")
    .at(-1);
  const content = user?.content;
  if (typeof content === "string") return content;
  return (content as Array<{ type: string; text?: string }>).map((part) => part.text ?? "").join("");
}

describe("pi CLI: prompt shortcuts written wrong", () => {
  let dir: EmulatedAgent<"A" | "B" | "C">;
  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai", C: "openai" },
      providers: {
        alpha: { emulator: "A", apiKey: "sk-alpha", models: ["a-small"] },
        beta: { emulator: "B", apiKey: "sk-beta", models: ["b-vision"] },
        gamma: { emulator: "C", apiKey: "sk-gamma", models: ["g-haiku"] },
      },
      routes: { routes: { main: routeInOrder("alpha/a-small", "beta/b-vision", "gamma/g-haiku") } },
    });
  });
  after(() => dir?.stop());
  beforeEach(() => dir.reset());
  // Piped: `pi -p "@x"` is a file include for pi itself.
  const pi = (stdin: string, ...args: string[]) =>
    runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", ...args], stdin });
  const served = () =>
    (["A", "B", "C"] as const).flatMap((name) => dir.emulators[name].calls.map((call) => [name, lastUserText(call)]));

  it("sends @only=provider/model as text with a warning that @only= takes provider names", async () => {
    const run = await pi("@only=gamma/g-haiku hi");
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /auto-router: "@only=gamma\/g-haiku" is not a shortcut, so it was sent as part of the prompt: @only= takes provider names \(e\.g\. @only=gamma\), not provider\/model/,
    );
    assert.deepEqual(served(), [["A", "@only=gamma/g-haiku hi"]]);
  });

  it("does not take a provider list broken by a space: the whole prompt is sent, with a warning saying how to write it", async () => {
    const run = await pi("@only=gamma, beta hi");
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /"@only=gamma," is not a shortcut, so it was sent as part of the prompt: a list of providers has no spaces: write "@only=gamma,beta" if beta is a provider, else "@only=gamma"/,
    );
    assert.deepEqual(served(), [["A", "@only=gamma, beta hi"]]);
  });

  it("ends a print-mode run of shortcuts alone with the notice on stderr and exit 1, text or JSON output", async () => {
    const text = await pi("@fast\n");
    assert.equal(text.code, 1, text.stderr);
    assert.equal(text.stdout, "");
    assert.match(text.stderr, /auto-router: nothing was sent: @fast only says how the prompt after it is routed/);
    const json = await runPi({
      agentDir: dir.agentDir,
      args: ["--model", "auto-router/main", "--mode", "json"],
      stdin: "@fast @only=beta\n",
    });
    assert.equal(json.code, 1, json.stderr);
    assert.match(json.stderr, /auto-router: nothing was sent: @fast @only=beta only says/);
    assert.deepEqual(served(), []);
    // A prompt after the shortcut is sent and answered as before.
    const answered = await pi("@only=beta hi\n");
    assert.equal(answered.code, 0, answered.stderr);
    assert.deepEqual(served(), [["B", "hi"]]);
  });
});

describe("pi CLI: a rule naming a mistyped provider or target", () => {
  let dir: EmulatedAgent<"A" | "B">;
  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: {
        alpha: { emulator: "A", apiKey: "sk-alpha", models: ["a-small", "a-reason"] },
        beta: { emulator: "B", apiKey: "sk-beta", models: ["b-vision"] },
      },
      routes: {
        routes: {
          ruled: {
            ...routeInOrder("alpha/a-small", "beta/b-vision", "alpha/a-reason"),
            policyRules: [
              { id: "ex-alph", type: "exclude-provider", providers: ["alpah"] },
              { id: "dem-bare", type: "demote-target", targets: ["beta"] },
              { id: "dem-typo", type: "demote-target", targets: ["alpha/a-smal"] },
            ],
          },
        },
      },
    });
  });
  after(() => dir?.stop());

  it("warns with the closest known provider or target, and says a target is written provider/modelId", async () => {
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/ruled", "-p", "hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /^auto-router: warning: \S+:24:13: routes\.ruled\.policyRules\[0\] \(ex-alph\) names the provider "alpah", which no route has: it never matches anything; did you mean 'alpha'\?/m,
    );
    assert.match(
      run.stderr,
      /\(dem-bare\) names the target "beta", but a target is written provider\/modelId \(e\.g\. "beta\/b-vision"\): it never matches anything/,
    );
    assert.match(
      run.stderr,
      /\(dem-typo\) names the target "alpha\/a-smal", which no route has: it never matches anything; did you mean 'alpha\/a-small'\?/,
    );
  });
});
