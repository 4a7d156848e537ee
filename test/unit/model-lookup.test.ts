import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Api, Model } from "@mariozechner/pi-ai";
import { withModelLookupCache } from "../../src/runtime/model-lookup.ts";
import type { RegistryLike } from "../../src/runtime/start-target.ts";

const model = (provider: string, id: string, baseUrl = "https://one.example") =>
  ({ provider, id, baseUrl }) as unknown as Model<Api>;

/** A registry like pi's: `find` scans `models`, `getAll` returns that same list. Scans are counted. */
function countingRegistry(models: Array<Model<Api>>) {
  const registry = {
    models,
    scans: 0,
    getAll() {
      return registry.models;
    },
    find(provider: string, modelId: string) {
      registry.scans += 1;
      return registry.models.find((item) => item.provider === provider && item.id === modelId);
    },
    hasConfiguredAuth: () => true,
    getApiKeyAndHeaders: async () => ({ ok: true as const, apiKey: "k" }),
  };
  return registry;
}

describe("the registry's remembered model lookup", () => {
  it("scans pi's model list once per target while the list is unchanged, found or not", () => {
    const registry = countingRegistry([model("a", "one"), model("b", "two")]);
    const view = withModelLookupCache(registry as RegistryLike);
    for (let index = 0; index < 5; index++) {
      assert.equal(view.find("b", "two"), registry.models[1]);
      assert.equal(view.find("c", "missing"), undefined);
    }
    assert.equal(registry.scans, 2);
  });

  it("asks again when pi replaces the list, adds to it, or puts another object in the found model's place", () => {
    const registry = countingRegistry([model("a", "one"), model("b", "two")]);
    const view = withModelLookupCache(registry as RegistryLike);
    view.find("a", "one");
    registry.models = [model("a", "one", "https://two.example")];
    assert.equal((view.find("a", "one") as any).baseUrl, "https://two.example", "a replaced list is read again");
    registry.models.push(model("c", "three"));
    assert.equal(view.find("c", "three")?.id, "three", "a model pushed onto the same list is found");
    const replacement = model("a", "one", "https://three.example");
    registry.models[0] = replacement;
    assert.equal(view.find("a", "one"), replacement, "a model replaced in place is not served stale");
    assert.equal(registry.scans, 4);
  });

  it("passes every other member through, and leaves a registry that cannot list a stable array as it is", async () => {
    const registry = countingRegistry([model("a", "one")]);
    const view = withModelLookupCache(registry as RegistryLike);
    assert.deepEqual(await view.getApiKeyAndHeaders(model("a", "one")), { ok: true, apiKey: "k" });
    assert.equal(view.getApiKeyAndHeaders, view.getApiKeyAndHeaders, "a method is bound once, not per access");
    const copying = { ...registry, getAll: () => [...registry.models] };
    assert.equal(withModelLookupCache(copying as RegistryLike), copying);
    const unlisted = { find: registry.find, hasConfiguredAuth: registry.hasConfiguredAuth } as unknown as RegistryLike;
    assert.equal(withModelLookupCache(unlisted), unlisted);
  });
});
