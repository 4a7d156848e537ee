// A gateway.models entry mapped to a mistyped route, or to an alias that points at nothing: its 404 says what the
// mapping names and the name meant, as the start warning does, and never calls a dead alias "not an alias".
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouterConfig } from "../../src/config/schema.ts";
import { deadModelMappings, unknownModelText } from "../../src/gateway/model-names.ts";
import type { RegistryLike } from "../../src/runtime/start-target.ts";

const config = {
  routes: { main: { targets: [{ provider: "a", modelId: "x" }] } },
  aliases: { gone: "removed" },
  gateway: { models: { "claude-r": "auto-router/mian", "claude-q": "mian", "claude-a": "gone", "claude-ok": "main" } },
} as unknown as RouterConfig;
const registry = {
  find: (provider: string, modelId: string) => (provider === "a" && modelId === "x" ? ({ id: "x" } as any) : undefined),
  hasConfiguredAuth: () => true,
  getApiKeyAndHeaders: async () => ({ ok: true as const }),
} as unknown as RegistryLike;

describe("gateway.models entries that point at nothing", () => {
  it("a mapping to a mistyped route: the 404 names the route meant, as the routes file's warning does", () => {
    for (const name of ["claude-r", "claude-q"])
      assert.match(
        unknownModelText(name, config, registry),
        /^model "claude-[rq]" is mapped by gateway\.models to "(auto-router\/)?mian", which is not a route, an alias or a model pi knows; did you mean "auto-router\/main"\?; known routes: auto-router\/main$/,
      );
  });

  it("a mapping to an alias that points at nothing: the 404 and the start warning say so", () => {
    assert.equal(
      unknownModelText("claude-a", config, registry),
      'model "claude-a" is mapped by gateway.models to "gone", an alias of "removed", which is no route and no model pi knows: the alias points at nothing (fix or remove aliases.gone in the routes file); known routes: auto-router/main',
    );
    assert.deepEqual(deadModelMappings(config, registry), [
      {
        path: "gateway.models.claude-a",
        message:
          '"gone" is an alias of "removed", which points at nothing, so requests for "claude-a" get a 404 (fix aliases.gone, or map "claude-a" to a route)',
      },
    ]);
  });
});
