// What loading the extension into a plain pi session brings into the process, counted in Node's module cache: the
// prebuilt bundle and nothing else of this package. Team mode's Redis client (dist/redis-client.cjs), the gateway
// with fastify (dist/gateway.mjs) and the analytics (dist/routing-cli*.mjs) stay on disk until they are used.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { relative, sep } from "node:path";
import { afterEach, describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/agent-dir.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";

const moduleCache = createRequire(import.meta.url).cache;
const TARGETS = [{ provider: "load-target", models: [{ id: "model" }] }];
const ROUTES = { routes: { main: { targets: [{ provider: "load-target", modelId: "model" }] } } };

/** Files of this package (outside the tests) in Node's module cache, relative to the package root. */
function packageFilesLoaded(): Set<string> {
  const files = new Set<string>();
  for (const path of Object.keys(moduleCache)) {
    const inside = relative(REPO_ROOT, path);
    if (inside.startsWith("..") || inside.startsWith(`test${sep}`) || inside.startsWith(`node_modules${sep}`)) continue;
    files.add(inside);
  }
  return files;
}

let harness: SdkHarness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

describe("loading the extension", () => {
  it("loads the prebuilt bundle and no Redis client, gateway or analytics bundle", async (context) => {
    if (process.env.AUTO_ROUTER_FROM_SOURCE === "1") return context.skip("the extension runs from its sources here");
    // A session without the extension first, so what pi and the test fixtures load is in the cache already.
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, extensionPaths: [], ui: false });
    await harness.dispose();
    const before = packageFilesLoaded();
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, ui: false });
    await harness.setModel("auto-router", "main");
    harness.faux("load-target").setResponses([harness.fauxHelpers.fauxAssistantMessage("hello")]);
    await harness.prompt("hi");
    assert.equal(harness.lastAssistant()?.content?.[0]?.text, "hello", "the routed prompt was answered");
    const added = [...packageFilesLoaded()].filter((file) => !before.has(file)).sort();
    assert.ok(added.includes(`dist${sep}auto-router.cjs`), `the bundle is what runs (added: ${added.join(", ")})`);
    const others = added.filter((file) => file !== `dist${sep}auto-router.cjs` && file !== "pi-extension.ts");
    assert.deepEqual(others, [], "nothing else of the package is loaded");
  });
});
