// The real `pi-auto-router serve` with the official clients: a gateway.models entry mapped to a mistyped route or to
// an alias that points at nothing is warned about at start, and requested, its 404 says what the mapping names and
// the name meant.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

describe("gateway: gateway.models entries that point at nothing", () => {
  let fx: GatewayFixture<"A">;
  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai" },
      providers: { alpha: { emulator: "A", apiKey: "sk-alpha-key-000000000001", models: ["a-small"] } },
      routes: {
        routes: { main: { targets: [{ provider: "alpha", modelId: "a-small" }] } },
        aliases: { gone: "removed-route" },
        gateway: { models: { "claude-r": "auto-router/mian", "claude-a": "gone" } },
      },
    });
  });
  after(() => fx?.stop());

  it("a mapping to a mistyped route: the 404 names the route meant", async () => {
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "claude-r", messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError &&
        /model "claude-r" is mapped by gateway\.models to "auto-router\/mian", which is not a route, an alias or a model pi knows; did you mean "auto-router\/main"\?/.test(
          error.message,
        ),
    );
    assert.equal(fx.emulators.A.calls.length, 0);
  });

  it("a mapping to an alias that points at nothing: warned about at start, and its 404 says so", async () => {
    const file = join(fx.agentDir, "extensions", ROUTES_FILE_NAME);
    await until(() => fx.gateway.stderr().includes("gateway.models.claude-a"), "the start warning", 15_000);
    const line = fx.gateway
      .stderr()
      .split("\n")
      .find((text) => text.includes("gateway.models.claude-a"))!;
    assert.ok(line.startsWith(`auto-router: warning: ${file}:`), line);
    assert.match(
      line,
      /"gone" is an alias of "removed-route", which points at nothing, so requests for "claude-a" get a 404/,
    );
    await assert.rejects(
      fx.anthropic.messages.create({ model: "claude-a", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.NotFoundError);
        const message = (error.error as { error: { message: string } }).error.message;
        assert.match(
          message,
          /^model "claude-a" is mapped by gateway\.models to "gone", an alias of "removed-route", which is no route and no model pi knows: the alias points at nothing \(fix or remove aliases\.gone in the routes file\)/,
        );
        return true;
      },
    );
  });
});
