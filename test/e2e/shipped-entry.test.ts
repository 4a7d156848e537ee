// The entry pi loads from the package (pi-extension.ts) runs the prebuilt bundle, passing it pi's own modules from
// the host instead of letting it import its own copy; without the bundle it falls back to the sources.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
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
      routes: {
        routes: {
          r: routeInOrder("mock-a/model-a", "mock-b/model-b"),
        },
      },
    });
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    dir.cleanup();
  });

  it("is built by npm install / npm test into dist/auto-router.cjs", () => {
    assert.ok(existsSync(join(REPO_ROOT, "dist", "auto-router.cjs")));
  });

  it("writes nothing into the package directory when pi runs it", async () => {
    const packageFiles = () =>
      ["", "dist"].flatMap((folder) => readdirSync(join(REPO_ROOT, folder)).map((name) => join(folder, name))).sort();
    const before = packageFiles();
    a.reset();
    a.setDefault({ text: "served" });
    for (let run = 0; run < 2; run++) {
      const answer = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/r", "-p", "hello"] });
      assert.equal(answer.code, 0, answer.stderr);
      assert.equal(answer.stdout.trim(), "served");
    }
    assert.deepEqual(packageFiles(), before);
    // Only the build's own outputs: no code cache, no temporary file.
    const built = /^(auto-router\.cjs|redis-client\.cjs|(gateway|routing-cli)(-[A-Z0-9]+)?\.mjs)$/;
    const unexpected = readdirSync(join(REPO_ROOT, "dist")).filter((name) => !built.test(name));
    assert.deepEqual(unexpected, []);
  });

  for (const [name, env, expected] of [
    ["runs the bundle and fails over with it", {}, /code: bundled/],
    [
      "falls back to the TypeScript sources when asked (or when no bundle was built)",
      { AUTO_ROUTER_FROM_SOURCE: "1" },
      /code: TypeScript sources/,
    ],
  ] as const) {
    it(name, async () => {
      a.reset();
      b.reset();
      a.enqueue({ status: 429, errorMessage: "slow down" });
      b.enqueue({ text: "served by B" });
      const run = await runPi({
        agentDir: dir.agentDir,
        env,
        args: ["--model", "auto-router/r", "-p", "hello", "/auto-router status"],
        // Loading the TypeScript sources (jiti) is the slow start this case is about: 30 s was not enough under load.
        timeoutMs: 120_000,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim(), "served by B");
      assert.match(run.stderr, expected);
    });
  }
});
