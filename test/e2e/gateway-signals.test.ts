// The signals an operator sends the real `pi-auto-router serve` process: SIGHUP re-reads the routes file (the daemon
// convention) without touching the requests in flight, and a second SIGINT/SIGTERM during the drain exits at once.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture, streamUntilFirstText } from "../helpers/gateway-fixture.ts";

const words = (count: number) => Array.from({ length: count }, (_, index) => `word${index} `);

describe("gateway signals", () => {
  let fx: GatewayFixture<"A">;

  beforeEach(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "anthropic" },
      providers: { "mock-a": { emulator: "A", apiKey: "sk-ant-mock-a-key-000003", models: ["model-a"] } },
      routes: { routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
    });
  });
  afterEach(() => fx?.stop());

  it("re-reads the routes file on SIGHUP and keeps serving, a stream in flight included", async () => {
    fx.emulators.A.enqueue({ text: words(6), chunkDelayMs: 150 });
    const { stream, types } = await streamUntilFirstText(fx.anthropic, "main");
    // The file is unchanged, so its watcher has nothing to report: a reload line can only come from the signal.
    assert.doesNotMatch(fx.gateway.stderr(), /routes file reloaded/);
    fx.gateway.child.kill("SIGHUP");
    await until(
      () => /routes file reloaded: .*auto-router\.routes\.json \(1 route\)/.test(fx.gateway.stderr()),
      `the reload line in\n${fx.gateway.stderr()}`,
    );
    assert.match(fx.gateway.stderr(), /^SIGHUP: re-reading the routes file$/m);
    const final = await stream.finalMessage();
    assert.equal(final.content[0]!.type === "text" && final.content[0]!.text, words(6).join(""));
    assert.equal(types.at(-1), "message_stop");
    await until(
      () => readLoggedEvents(fx.agentDir).some((event) => event.type === "final" && event.data.outcome === "success"),
      "the stream's final event",
    );
    assert.equal(fx.gateway.child.exitCode, null, "the gateway still runs");
    fx.emulators.A.enqueue({ text: "after the reload" });
    const next = await fx.anthropic.messages.create({
      model: "main",
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(next.content[0]!.type === "text" && next.content[0]!.text, "after the reload");
    assert.equal(await fx.gateway.stop(), 0, fx.gateway.stderr());
  });

  it("says which settings read at start an edit changed, and that they take effect after a restart", async () => {
    const file = join(fx.agentDir, "extensions", ROUTES_FILE_NAME);
    const routes = { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } };
    const finals = () => readLoggedEvents(fx.agentDir).filter((event) => event.type === "final").length;
    fx.emulators.A.enqueue({ text: "logged" });
    await fx.anthropic.messages.create({ model: "main", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    await until(() => finals() === 1, "the first request's final line");
    // maxConcurrentRequests, the event log and the timeouts follow edits; the body limit is set up at start.
    writeFileSync(
      file,
      JSON.stringify({
        routes,
        eventLog: { enabled: false },
        gateway: { idleTimeoutMs: 5_000, bodyLimitBytes: 1_000_000, maxConcurrentRequests: 8 },
      }),
    );
    const reloaded = /^auto-router: routes file reloaded: .*$/m;
    await until(() => reloaded.test(fx.gateway.stderr()), `the reload line in\n${fx.gateway.stderr()}`);
    assert.match(
      fx.gateway.stderr(),
      /^auto-router: routes file reloaded: .*auto-router\.routes\.json \(1 route\); gateway\.bodyLimitBytes changed: it takes effect after a restart of the gateway$/m,
    );
    // The edited idle timeout, from the next request on (Node's keep-alive header says it; it was 120 s).
    fx.emulators.A.enqueue({ text: "not logged" });
    const { response } = await fx.anthropic.messages
      .create({ model: "main", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(response.headers.get("keep-alive"), "timeout=5");
    assert.equal(await fx.gateway.stop(), 0, fx.gateway.stderr());
    // The event log was turned off by the edit: the gateway wrote what was waiting and nothing after.
    assert.equal(finals(), 1);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`exits at once on a second ${signal} during the drain, saying so`, async () => {
      // 600 deltas 0.1 s apart: a minute of answer, longer than the default drain (30 s) the first signal waits for.
      fx.emulators.A.enqueue({ text: words(600), chunkDelayMs: 100 });
      const { stream, types } = await streamUntilFirstText(fx.anthropic, "main", {
        content: "count slowly",
        expectCut: true,
      });
      fx.gateway.child.kill(signal);
      await until(() => fx.gateway.stderr().includes(`${signal}: draining`), "the drain line");
      fx.gateway.child.kill(signal);
      const code = await fx.gateway.exited;
      assert.equal(code, signal === "SIGINT" ? 130 : 143, fx.gateway.stderr());
      assert.match(fx.gateway.stderr(), new RegExp(`^${signal} again: exiting now`, "m"));
      const ending = await stream.finalMessage().then(
        () => "finished",
        () => "cut",
      );
      assert.equal(ending, "cut");
      assert.ok(!types.includes("message_stop"));
    });
  }
});
