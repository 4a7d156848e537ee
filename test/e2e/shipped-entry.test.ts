// The entry pi loads from the package (pi-extension.ts) runs the prebuilt bundle, which gets pi's own modules from
// the host instead of importing its own copy; without the bundle it falls back to the sources.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, REPO_ROOT } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

describe("the shipped entry", () => {
  let a: Emulator;
  let b: Emulator;
  let dir: ReturnType<typeof makeAgentDir>;
  before(async () => {
    a = await startOpenAIEmulator({ name: "A" });
    b = await startOpenAIEmulator({ name: "B" });
    dir = makeAgentDir({
      providers: {
        "mock-a": { baseUrl: a.url, api: "openai-completions", apiKey: "sk-a", models: [{ id: "model-a" }] },
        "mock-b": { baseUrl: b.url, api: "openai-completions", apiKey: "sk-b", models: [{ id: "model-b" }] },
      },
      routes: { routes: { r: { sortBy: "config", targets: [{ provider: "mock-a", modelId: "model-a" }, { provider: "mock-b", modelId: "model-b" }] } } },
    });
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    dir.cleanup();
  });

  it("is built by npm install / npm test into dist/auto-router.cjs", () => {
    assert.ok(existsSync(join(REPO_ROOT, "dist", "auto-router.cjs")));
  });

  it("compiles the bundle with a V8 code cache named after the bundle's content, and survives a damaged cache", async () => {
    const bundle = join(REPO_ROOT, "dist", "auto-router.cjs");
    const hash = createHash("sha256").update(readFileSync(bundle)).digest("hex").slice(0, 16);
    const cache = `${bundle}.${hash}.${process.version}-${process.arch}.v8cache`;
    writeFileSync(cache, "not a code cache");
    a.reset();
    a.setDefault({ text: "still served" });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/r", "-p", "hello"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "still served");
    // The rejected cache was replaced in the background by a real one.
    for (let waited = 0; waited < 100 && readFileSync(cache, "utf8").startsWith("not a code cache"); waited++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(readFileSync(cache).length > 1000, "a real code cache was written");
  });

  for (const [name, env, expected] of [
    ["runs the bundle and fails over with it", {}, /code: bundled/],
    ["falls back to the TypeScript sources when asked (or when no bundle was built)", { AUTO_ROUTER_FROM_SOURCE: "1" }, /code: TypeScript sources/],
  ] as const) {
    it(name, async () => {
      a.reset();
      b.reset();
      a.enqueue({ status: 429, errorMessage: "slow down" });
      b.enqueue({ text: "served by B" });
      const run = await runPi({ agentDir: dir.agentDir, env, args: ["--model", "auto-router/r", "-p", "hello", "/auto-router status"] });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim(), "served by B");
      assert.match(run.stderr, expected);
    });
  }
});
