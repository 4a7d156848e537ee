// The gateway loads pi's model registry and credential store without pi's whole package index (its TUI, tools and
// session code); on this pi line they must be the very classes the index exports.
import assert from "node:assert/strict";
import { it } from "node:test";
import { loadRegistrySdk } from "../../src/gateway/credentials.ts";

it("loads pi's ModelRegistry and AuthStorage from their own modules, the same classes the package index exports", async () => {
  const sdk = await loadRegistrySdk();
  assert.deepEqual(Object.keys(sdk).sort(), ["AuthStorage", "ModelRegistry"], "the two modules, not the whole index");
  const index = await import("@mariozechner/pi-coding-agent");
  assert.equal(sdk.ModelRegistry, index.ModelRegistry);
  assert.equal(sdk.AuthStorage, index.AuthStorage);
});
