// The routes file removed while the real `pi-auto-router serve` runs: the gateway says so once on stderr, naming the
// file, keeps serving the routes it had (not the built-in subscription routes), and loads the file when it is back.
import assert from "node:assert/strict";
import { unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

const routes = (...ids: string[]) => ({
  routes: Object.fromEntries(ids.map((id) => [id, { targets: [{ provider: "mock-a", modelId: "model-a" }] }])),
});

describe("gateway routes file", () => {
  let fx: GatewayFixture<"A">;
  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai" },
      providers: { "mock-a": { emulator: "A", apiKey: "sk-mock-a-key-0000000001", models: ["model-a"] } },
      routes: routes("pol", "other"),
    });
  });
  after(() => fx?.stop());

  it("keeps serving the routes of a removed routes file, says so once, and loads the file again when it is back", async () => {
    const file = join(fx.agentDir, "extensions", ROUTES_FILE_NAME);
    const modelIds = async () => (await fx.openai.models.list()).data.map((model) => model.id);
    const ask = async (model: string) =>
      (await fx.openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] })).choices[0]!
        .message.content;

    unlinkSync(file);
    await until(() => fx.gateway.stderr().includes("was removed"), "the removal notice", 15_000);
    assert.match(
      fx.gateway.stderr(),
      new RegExp(
        `auto-router: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} was removed; keeping the routes it had \\(2 routes\\) until it is back`,
      ),
    );
    assert.deepEqual(await modelIds(), ["auto-router/pol", "auto-router/other"]);
    fx.emulators.A.enqueue({ text: "still served" });
    assert.equal(await ask("auto-router/pol"), "still served");

    const back = fx.gateway.stderr().length;
    writeFileSync(file, JSON.stringify(routes("pol")));
    await until(() => fx.gateway.stderr().slice(back).includes("routes file reloaded"), "the file back", 15_000);
    assert.deepEqual(await modelIds(), ["auto-router/pol"]);
    assert.equal(fx.gateway.stderr().split("was removed").length - 1, 1, "said once, not at every poll");
  });
});
