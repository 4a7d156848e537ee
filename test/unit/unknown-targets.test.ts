// Misspelled provider and model ids in routes: found, with the closest id pi knows.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { RouterConfig } from "../../src/config/schema.ts";
import { closestId } from "../../src/config/spelling.ts";
import { findUnknownTargets } from "../../src/config/unknown-targets.ts";

const known = new Map([
  ["alpha", ["model-one", "model-two"]],
  ["beta", ["big-model"]],
]);
const config = (targets: Array<[string, string]>) =>
  ({
    routes: {
      main: { targets: targets.map(([provider, modelId]) => ({ provider, modelId })) },
      other: { targets: targets.map(([provider, modelId]) => ({ provider, modelId })) },
    },
  }) as unknown as RouterConfig;

it("names each unknown provider and model once, with the closest known id", () => {
  const unknown = findUnknownTargets(
    config([
      ["alpah", "model-one"],
      ["alpha", "modle-two"],
      ["beta", "big-model"],
      ["zzzzzz", "x"],
    ]),
    known,
  );
  assert.deepEqual(
    unknown.map((target) => [target.key, target.path, target.message]),
    [
      ["alpah", "routes.main.targets[0]", "provider 'alpah' is not known to pi; did you mean 'alpha'?"],
      [
        "alpha/modle-two",
        "routes.main.targets[1]",
        "model 'modle-two' is not known to pi for provider 'alpha'; did you mean 'model-two'?",
      ],
      ["zzzzzz", "routes.main.targets[3]", "provider 'zzzzzz' is not known to pi"],
    ],
  );
});

it("names a routes-file providers entry whose id pi does not know", () => {
  const withProviders = {
    ...config([["alpha", "model-one"]]),
    providers: { alpah: { endpointPrefixes: [] }, beta: { endpointPrefixes: [] } },
  } as unknown as RouterConfig;
  assert.deepEqual(
    findUnknownTargets(withProviders, known).map((target) => [target.path, target.message]),
    [
      [
        "providers.alpah",
        "provider 'alpah' is not known to pi, so these settings apply to nothing; did you mean 'alpha'?",
      ],
    ],
  );
});

it("names an alias's provider or model pi does not know, not one pi knows that no route has, nor a route name", () => {
  const withAliases = {
    ...config([["alpha", "model-one"]]),
    aliases: {
      other: "beta/big-model",
      list: ["gamma/x", "alpha/model-two", "alpha/modle-two"],
      route: ["main", "auto-router/other"],
    },
  } as unknown as RouterConfig;
  assert.deepEqual(
    findUnknownTargets(withAliases, known).map((target) => [target.key, target.path, target.message]),
    [
      ["gamma", "aliases.list[0]", "provider 'gamma' is not known to pi"],
      [
        "alpha/modle-two",
        "aliases.list[2]",
        "model 'modle-two' is not known to pi for provider 'alpha'; did you mean 'model-two'?",
      ],
    ],
  );
});

it("suggests only ids near enough to be a typo", () => {
  assert.equal(closestId("claude-sonet-4", ["claude-sonnet-4", "claude-opus-4"]), "claude-sonnet-4");
  assert.equal(closestId("gpt", ["claude-sonnet-4"]), undefined);
});
