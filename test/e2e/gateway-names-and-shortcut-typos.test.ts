// The real `pi-auto-router serve` with the official clients: names that point at nothing (an alias whose route was
// removed or whose model pi does not know, a gateway.models mapping to a mistyped provider/model) are neither listed
// nor suggested, and say what they point at; a mistyped prompt shortcut is warned about in a response header, or
// refused when written with a value; and a request whose own preferences left out part of the route says so when the
// targets it allowed failed.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { until } from "../helpers/event-log.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";

const routesFile = (models: Record<string, string>) => ({
  routes: {
    main: {
      sortBy: "config",
      targets: [
        { provider: "alpha", modelId: "a-small" },
        { provider: "beta", modelId: "b-small" },
      ],
    },
    solo: { targets: [{ provider: "beta", modelId: "b-small" }] },
  },
  aliases: { live: "main", gone: "removed-route", "dead-model": "alpha/a-gone", "beta-model": "beta/b-small" },
  gateway: { models: models },
  // A failed target is not waited for: the request ends with the final error at once.
  failover: { cooldownWaitMs: 0 },
});

describe("gateway: names that point at nothing, and mistyped shortcuts", () => {
  let fx: GatewayFixture<"A" | "B">;
  before(async () => {
    fx = await startGatewayFixture({
      emulators: { A: "openai", B: "anthropic" },
      providers: {
        alpha: { emulator: "A", apiKey: "sk-alpha-key-000000000001", models: ["a-small"] },
        beta: { emulator: "B", apiKey: "sk-beta-key-0000000000002", models: ["b-small"] },
      },
      routes: routesFile({ "claude-x": "alpha/a-smal", "claude-ok": "auto-router/main" }),
    });
  });
  beforeEach(() => fx.reset());
  after(() => fx?.stop());

  const file = () => join(fx.agentDir, "extensions", ROUTES_FILE_NAME);

  it("warns at start and on reload about a gateway.models entry mapped to a mistyped provider/model", async () => {
    await until(() => fx.gateway.stderr().includes("gateway.models.claude-x"), "the start warning", 15_000);
    const startLine = fx.gateway
      .stderr()
      .split("\n")
      .find((line) => line.includes("gateway.models.claude-x"))!;
    assert.ok(startLine.startsWith(`auto-router: warning: ${file()}:`), startLine);
    assert.match(startLine, /"alpha\/a-smal" is not a model pi knows, .*; did you mean "alpha\/a-small"\?$/);

    const before = fx.gateway.stderr().length;
    writeFileSync(file(), JSON.stringify(routesFile({ "claude-x": "alpha/a-smal", "claude-y": "beta/b-smal" })));
    await until(
      () => fx.gateway.stderr().slice(before).includes("gateway.models.claude-y"),
      "the reload warning",
      15_000,
    );
    assert.match(fx.gateway.stderr().slice(before), /at gateway\.models\.claude-y: .*did you mean "beta\/b-small"\?/);
    // Said once: the entry the reload kept is not warned about again.
    assert.doesNotMatch(fx.gateway.stderr().slice(before), /gateway\.models\.claude-x/);

    // Requested, the mapping's 404 names the model meant.
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "claude-y", messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError &&
        /is mapped by gateway\.models to "beta\/b-smal", which is not a route, an alias or a model pi knows; did you mean "beta\/b-small"\?/.test(
          error.message,
        ),
    );
  });

  it("lists and suggests no alias that points at nothing, and its 404 says what it points at", async () => {
    const listed = ["auto-router/main", "auto-router/solo", "live", "beta-model"];
    assert.deepEqual(
      (await fx.openai.models.list()).data.map((model) => model.id),
      listed,
    );
    assert.deepEqual(
      (await fx.anthropic.models.list()).data.map((model) => model.id),
      listed,
    );
    await assert.rejects(
      fx.anthropic.messages.create({ model: "gone", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.NotFoundError);
        const message = (error.error as { error: { message: string } }).error.message;
        assert.match(
          message,
          /model "gone" is an alias of "removed-route", which is no route and no model pi knows: the alias points at nothing/,
        );
        assert.doesNotMatch(message, /did you mean/);
        return true;
      },
    );
    await assert.rejects(
      fx.openai.chat.completions.create({ model: "dead-model", messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) =>
        error instanceof OpenAI.NotFoundError && /alias of "alpha\/a-gone", .*points at nothing/.test(error.message),
    );
    // A typo of a dead alias is no typo of anything served.
    await assert.rejects(fx.openai.models.retrieve("gonee"), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.doesNotMatch(error.message, /did you mean "gone"/);
      assert.doesNotMatch(error.message, /known routes: .*\bgone\b/);
      return true;
    });
  });

  it("answers a model named like a member of every JavaScript object with a 404, as any unknown name", async () => {
    // Before, "constructor" or "toString" read Object.prototype's function as an alias or route: a 500.
    for (const model of ["constructor", "toString", "__proto__", "auto-router/constructor", "auto-router/__proto__"]) {
      await assert.rejects(
        fx.openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] }),
        (error: unknown) =>
          error instanceof OpenAI.NotFoundError &&
          error.message.includes(`model ${JSON.stringify(model)} is not served here; known routes: auto-router/main`),
      );
      await assert.rejects(
        fx.anthropic.messages.create({ model, max_tokens: 50, messages: [{ role: "user", content: "hi" }] }),
        (error: unknown) => error instanceof Anthropic.NotFoundError,
      );
    }
    assert.equal(fx.emulators.A.calls.length + fx.emulators.B.calls.length, 0);
    assert.doesNotMatch(fx.gateway.stderr(), /internal error/);
  });

  it("repeats only the start of a very long unknown name in its 404 and its log line", async () => {
    const model = `pasted-${"x".repeat(5_000)}`;
    await assert.rejects(
      fx.openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError);
        assert.ok(
          error.message.includes(
            `model ${JSON.stringify(model.slice(0, 100))}... (5007 characters) is not served here; known routes: auto-router/main`,
          ),
          error.message,
        );
        assert.ok(error.message.length < 400, `${error.message.length} characters`);
        return true;
      },
    );
    await until(() => fx.gateway.stderr().includes("(5007 characters)"), "the error line");
    assert.doesNotMatch(fx.gateway.stderr(), /x{101}/);
    // A key the cut goes through (pasted after 80 characters of text) is redacted whole before the cut, not left
    // with too little of its shape for the error line's redaction.
    const key = `sk-or-v1-${"0123456789abcdef".repeat(4)}`;
    const pasted = `${"y".repeat(79)} ${key}`;
    await assert.rejects(
      fx.openai.chat.completions.create({ model: pasted, messages: [{ role: "user", content: "hi" }] }),
      (error: unknown) => error instanceof OpenAI.NotFoundError && !error.message.includes(key.slice(0, 12)),
    );
    await until(() => fx.gateway.stderr().includes(`(${pasted.length} characters)`), "the second error line");
    assert.equal(fx.gateway.stderr().includes(key.slice(0, 12)), false, "no start of the key in the log");
  });

  it("sends a mistyped bare shortcut as text and says so in x-auto-router-warning", async () => {
    fx.emulators.A.enqueue({ text: "fixed" });
    const { data, response } = await fx.openai.chat.completions
      .create({ model: "main", messages: [{ role: "user", content: "@reasonng fix this" }] })
      .withResponse();
    assert.equal(data.choices[0]!.message.content, "fixed");
    assert.equal(
      response.headers.get("x-auto-router-warning"),
      '"@reasonng" is not a shortcut, so it was sent as part of the prompt: did you mean "@reasoning"?',
    );
    assert.match(JSON.stringify(fx.emulators.A.calls[0]!.body.messages), /@reasonng fix this/);

    // An Anthropic client's request sent as is (passthrough) carries it too; a non-ASCII token is escaped.
    fx.emulators.B.enqueue({ text: "ok" });
    const anthropic = await fx.anthropic.messages
      .create({ model: "solo", max_tokens: 50, messages: [{ role: "user", content: "@fäst do it" }] })
      .withResponse();
    assert.equal(
      anthropic.response.headers.get("x-auto-router-warning"),
      '"@f\\u00e4st" is not a shortcut, so it was sent as part of the prompt: did you mean "@fast"?',
    );

    fx.emulators.A.enqueue({ text: "plain" });
    const plain = await fx.openai.chat.completions
      .create({ model: "main", messages: [{ role: "user", content: "@only=alpha fix this" }] })
      .withResponse();
    assert.equal(plain.response.headers.get("x-auto-router-warning"), null);
  });

  it("refuses a mistyped shortcut written with a value, sending nothing", async () => {
    for (const [content, reason] of [
      ["@onyl=alpha fix this", 'did you mean "@only=alpha"\\?'],
      ["@sort=latncy fix this", '@sort= takes one of price, latency, throughput; did you mean "@sort=latency"\\?'],
      ["@only=alpha/a-small fix this", "@only= takes provider names \\(e\\.g\\. @only=alpha\\), not provider/model"],
    ] as const)
      await assert.rejects(
        fx.openai.chat.completions.create({ model: "main", messages: [{ role: "user", content }] }),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.BadRequestError, String(error));
          assert.match(
            error.message,
            new RegExp(
              `the prompt \\(the last user message\\) starts with "${content.split(" ")[0]!.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}", which is not a shortcut \\(${reason}\\), so nothing was sent: correct it, or put a word before it to send it as text`,
            ),
          );
          return true;
        },
      );
    assert.equal(fx.emulators.A.calls.length + fx.emulators.B.calls.length, 0);
  });

  it("says which targets were tried and that the request's preferences left out the others", async () => {
    fx.emulators.A.setDefault({ status: 500, errorMessage: "upstream broke" });
    await assert.rejects(
      fx.openai.chat.completions.create(
        { model: "main", messages: [{ role: "user", content: "hi" }] },
        { headers: { "X-Provider": JSON.stringify({ only: ["alpha"] }) } },
      ),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        assert.match(
          error.message,
          /every target of route main the provider preferences allow failed \(alpha\/a-small: server error\); the provider preferences left out the route's other targets \(beta\/b-small: not in only: alpha\)/,
        );
        return true;
      },
    );
  });
});
