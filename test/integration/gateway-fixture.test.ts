// Proves the gateway e2e fixture itself: the models.json it writes from short provider specs and whole entries, a
// working gateway and clients on it, and that it leaves nothing behind (servers, temp dirs, the gateway process),
// also when its setup fails halfway.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { OPENAI_EMULATOR_COMPAT } from "../helpers/agent-dir.ts";
import { startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { eventually, freshDir } from "../helpers/temp-and-workers.ts";

/** Listening servers of this process (the emulators are the only ones these tests open). */
const openServers = () => process.getActiveResourcesInfo().filter((name) => name === "TCPServerWrap").length;
/** A closed server's handle is listed until libuv has released it, a moment after close() resolved. */
const serversBackTo = (count: number) => eventually(() => openServers() === count, `${count} open servers`);

/**
 * Starts a fixture that must fail with `expected`, with os.tmpdir() pointing at a fresh directory so that what it
 * created there (agent dir, the gateway's HOME) can be seen to be gone, and its emulators to be closed.
 */
async function assertFailsCleanly(options: Parameters<typeof startGatewayFixture>[0], expected: RegExp) {
  const serversBefore = openServers();
  const tmp = freshDir("pi-auto-router-fixture-tmp");
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    await assert.rejects(startGatewayFixture(options), expected);
    assert.deepEqual(readdirSync(tmp), [], "the agent dir and the gateway's HOME are removed");
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(tmp, { recursive: true, force: true });
  }
  await serversBackTo(serversBefore);
}

describe("startGatewayFixture", () => {
  it("writes providers from short specs and whole entries, serves through the gateway, and stop() removes it all", async () => {
    const serversBefore = openServers();
    const fx = await startGatewayFixture({
      emulators: { A: "openai", D: "anthropic", R: "responses" },
      providers: {
        "mock-a": { emulator: "A", apiKey: "sk-a", models: ["model-a", { id: "model-a2", maxTokens: 8 }] },
        "mock-d": { emulator: "D", apiKey: "sk-d", models: ["model-d"], modelOptions: { maxTokens: 128_000 } },
        "mock-r": { emulator: "R", apiKey: "sk-r", models: ["model-r"] },
        own: { baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions", apiKey: "sk-own", models: [{ id: "o" }] },
      },
      routes: { routes: { chat: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
    });
    const { A, D, R } = fx.emulators;
    try {
      const models = JSON.parse(readFileSync(join(fx.agentDir, "models.json"), "utf8")).providers;
      assert.deepEqual(models["mock-a"], {
        baseUrl: A.url,
        api: "openai-completions",
        apiKey: "sk-a",
        compat: OPENAI_EMULATOR_COMPAT,
        models: [{ id: "model-a" }, { id: "model-a2", maxTokens: 8 }],
      });
      assert.deepEqual(models["mock-d"], {
        baseUrl: D.url,
        api: "anthropic-messages",
        apiKey: "sk-d",
        models: [{ id: "model-d", maxTokens: 128_000 }],
      });
      assert.equal(models["mock-r"].api, "openai-responses");
      assert.equal(models["mock-r"].baseUrl, R.url);
      assert.equal(models.own.baseUrl, "http://127.0.0.1:9/v1");
      assert.deepEqual(fx.providers["mock-d"], { ...models["mock-d"] });

      A.enqueue({ text: "Through the fixture." });
      const answer = await fx.openai.chat.completions.create({
        model: "chat",
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(answer.choices[0]!.message.content, "Through the fixture.");
      fx.reset();
      assert.equal(A.calls.length, 0);

      // The clients follow the new gateway: the old one has exited, so only its replacement can answer.
      const firstGateway = fx.gateway;
      await fx.restartGateway();
      assert.notEqual(firstGateway.child.exitCode ?? firstGateway.child.signalCode, null);
      A.enqueue({ text: "After the restart." });
      const again = await fx.openai.chat.completions.create({
        model: "chat",
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(again.choices[0]!.message.content, "After the restart.");
    } finally {
      await fx.stop();
    }
    await fx.stop();
    assert.equal(existsSync(fx.agentDir), false);
    assert.notEqual(fx.gateway.child.exitCode ?? fx.gateway.child.signalCode, null);
    await serversBackTo(serversBefore);
  });

  it("cleans up what it had started when the gateway exits before listening, and rethrows the gateway's error", async () => {
    await assertFailsCleanly(
      {
        emulators: { A: "openai", B: "anthropic" },
        providers: { "mock-a": { emulator: "A", apiKey: "sk-a", models: ["model-a"] } },
        routes: { routes: { chat: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
        gatewayOptions: { args: ["--host", "0.0.0.0"] },
      },
      /gateway exited with 2 before listening:[\s\S]*not a loopback address/,
    );
  });

  it("names a provider whose emulator the fixture does not start, and closes the emulators it started", async () => {
    await assertFailsCleanly(
      {
        emulators: { A: "openai" },
        providers: { "mock-b": { emulator: "B" as never, apiKey: "sk-b", models: ["model-b"] } },
      },
      /provider mock-b: no emulator named B in the fixture/,
    );
  });
});
