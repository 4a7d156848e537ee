// Names that point at nothing (an alias whose route or model is gone, a gateway.models mapping to a mistyped
// provider/model), a mistyped prompt shortcut through the gateway, and the final error of a request whose own
// provider preferences left part of the route out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Context } from "@mariozechner/pi-ai";
import type { RouterConfig } from "../../src/config/schema.ts";
import { takeShortcuts } from "../../src/gateway/client-prompt.ts";
import { GatewayError } from "../../src/gateway/errors.ts";
import { deadModelMappings, listedModelNames, modelList, unknownModelText } from "../../src/gateway/model-names.ts";
import { allFailedText, outOfPiRetry } from "../../src/runtime/final-error.ts";
import type { RegistryLike } from "../../src/runtime/start-target.ts";

const config = {
  routes: { main: { targets: [{ provider: "a", modelId: "x" }] } },
  aliases: { quick: "main", gone: "removed", "old-model": "a/gone", "a-model": "a/x", either: ["removed", "a/x"] },
  gateway: { models: { "claude-x": "a/xx", "claude-ok": "a/x", "claude-r": "auto-router/main" } },
} as unknown as RouterConfig;
const registry = {
  find: (provider: string, modelId: string) => (provider === "a" && modelId === "x" ? ({ id: "x" } as any) : undefined),
  hasConfiguredAuth: () => true,
  getApiKeyAndHeaders: async () => ({ ok: true as const }),
} as unknown as RegistryLike;

describe("gateway names that point at nothing", () => {
  it("are not listed: an alias whose route was removed or whose model pi does not know", () => {
    assert.deepEqual(listedModelNames(config, registry), ["auto-router/main", "quick", "a-model", "either"]);
    assert.deepEqual(
      modelList(config, {}, registry).data.map((model) => model.id),
      ["auto-router/main", "quick", "a-model", "either"],
    );
  });

  it("are not suggested, and a dead alias's 404 says what it points at", () => {
    assert.equal(
      unknownModelText("gone", config, registry),
      'model "gone" is an alias of "removed", which is no route and no model pi knows: the alias points at nothing (fix or remove aliases.gone in the routes file); known routes: auto-router/main, quick, a-model, either',
    );
    assert.match(unknownModelText("old-model", config, registry), /^model "old-model" is an alias of "a\/gone", /);
    assert.doesNotMatch(unknownModelText("gonee", config, registry), /did you mean/);
    assert.doesNotMatch(unknownModelText("claude-xx", config, registry), /did you mean "claude-x"/);
    assert.match(unknownModelText("claude-okk", config, registry), /did you mean "claude-ok"\?/);
  });

  it("a gateway.models entry mapped to a mistyped provider/model: warned about with its path, and its 404 names the one meant", () => {
    assert.deepEqual(deadModelMappings(config, registry), [
      {
        path: "gateway.models.claude-x",
        message: '"a/xx" is not a model pi knows, so requests for "claude-x" get a 404; did you mean "a/x"?',
      },
    ]);
    assert.match(
      unknownModelText("claude-x", config, registry),
      /^model "claude-x" is mapped by gateway\.models to "a\/xx", which is not a route, an alias or a model pi knows; did you mean "a\/x"\?; known routes: /,
    );
  });
});

describe("a mistyped shortcut through the gateway", () => {
  const prompt = (text: string): Context => ({ messages: [{ role: "user", content: text, timestamp: 0 }] });

  it("a bare one is sent as text and warned about in header-safe text", () => {
    const warnings: string[] = [];
    const context = prompt("@reasonng fix this");
    assert.equal(
      takeShortcuts(context, 0, (text) => warnings.push(text)),
      undefined,
    );
    assert.equal(context.messages[0]!.content, "@reasonng fix this");
    assert.deepEqual(warnings, [
      '"@reasonng" is not a shortcut, so it was sent as part of the prompt: did you mean "@reasoning"?',
    ]);
    warnings.length = 0;
    takeShortcuts(prompt("@fast @lоng go"), 0, (text) => warnings.push(text)); // a Cyrillic "о"
    assert.match(warnings[0]!, /^"@l\\u043eng" is not a shortcut/);
    assert.ok(/^[\x20-\x7e]*$/.test(warnings[0]!));
  });

  it("one written with a value is a 400 and the prompt is not sent", () => {
    for (const text of ["@onyl=anthropic fix", "@fast @sort=latncy fix", "@only=gamma, beta fix"])
      assert.throws(
        () => takeShortcuts(prompt(text), 0),
        (error: unknown) =>
          error instanceof GatewayError &&
          error.status === 400 &&
          /^the prompt \(the last user message\) starts with "@[^"]+", which is not a shortcut \(.+\), so nothing was sent: correct it, or put a word before it to send it as text$/.test(
            error.message,
          ),
        text,
      );
  });
});

describe("the final error when the request's preferences left targets out", () => {
  it("names the targets tried and the ones the preferences left out", () => {
    const leftOut = ["b/y: not in only: a"];
    const failures = [{ key: "a/x", kind: "server" as const }];
    assert.equal(
      allFailedText("main", failures, true, true, { leftOut }).text,
      "auto-router: every target of route main the provider preferences allow failed (a/x: server error); the provider preferences left out the route's other targets (b/y: not in only: a); retrying later may succeed. GET /health/providers shows each target's state",
    );
    assert.equal(
      allFailedText("main", [{ key: "a/x", kind: "auth" }], true, false, { leftOut }).text,
      "auto-router: no target of route main the provider preferences allow could serve this request (a/x: credentials rejected); the provider preferences left out the route's other targets (b/y: not in only: a). See /auto-router explain main",
    );
    // A price quoted there does not make pi retry a failure it must not.
    const priced = allFailedText("main", [{ key: "a/x", kind: "auth" }], true, false, {
      leftOut: ["b/y: output $1500/1M > max-price $10/1M"],
    }).text;
    assert.equal(priced, outOfPiRetry(priced));
    assert.match(allFailedText("main", failures, true, true).text, /^auto-router: every target of route main failed/);
  });
});
