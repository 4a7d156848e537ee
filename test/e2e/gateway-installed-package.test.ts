// `pi-auto-router serve` as an installed package runs it: pi installs packages with `npm install --omit=dev`, and
// pi's own packages are peers, so nothing named @mariozechner/* sits beside the package. The gateway then uses the pi
// the user runs (the `pi` command on PATH, or AUTO_ROUTER_PI_DIR): here each newer line of the @earendil-works pi on
// Node 22 (test/pi-next 0.87.1 and test/pi-latest 1.6.0, installed by .ci/run), whose model registry resolves the
// credentials and whose pi-ai translates.
import Anthropic from "@anthropic-ai/sdk";
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/agent-dir.ts";
import { type GatewayFixture, startGatewayFixture } from "../helpers/gateway-fixture.ts";
import { installedGatewayPackage, runGatewayCommand, startGatewayProcess } from "../helpers/gateway-process.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const inCi = process.env.CI === "true" || process.env.CI === "1";
/** A PATH with the system tools and Node 22, and the newer pi first only where a test says so. */
const BASE_PATH = ["/usr/local/bin", "/usr/bin", "/bin"].join(":");
const LINES = [
  { version: "0.87.1", prefix: "pi-next" },
  { version: "1.6.0", prefix: "pi-latest" },
];

for (const line of LINES) {
  const PI_BIN = join(REPO_ROOT, "test", line.prefix, "node_modules", ".bin");
  const NODE_22 = join(PI_BIN, "node");
  const missing = !existsSync(join(PI_BIN, "pi")) || !existsSync(NODE_22);

  describe(`the gateway as an installed package, on pi ${line.version} alone`, {
    skip: missing && !inCi ? `test/${line.prefix} is not installed (npm ci --prefix test/${line.prefix})` : false,
  }, () => {
    let fx: GatewayFixture<"D">;
    let emulator: Emulator;
    let packageDir: string;

    before(async () => {
      assert.ok(!missing, `CI must run this test: test/${line.prefix} is missing`);
      // The files the npm package ships for the gateway, and no node_modules at all.
      packageDir = installedGatewayPackage();
      fx = await startGatewayFixture({
        emulators: { D: "anthropic" },
        providers: { "mock-d": { emulator: "D", apiKey: "sk-ant-mock-d-key-000004", models: ["model-d"] } },
        routes: { routes: { claude: { targets: [{ provider: "mock-d", modelId: "model-d" }] } } },
        gatewayOptions: {
          node: NODE_22,
          bin: join(packageDir, "bin", "pi-auto-router.mjs"),
          env: { PATH: `${PI_BIN}:${BASE_PATH}`, NODE_OPTIONS: undefined },
        },
      });
      emulator = fx.emulators.D;
    });
    after(async () => {
      await fx?.stop();
      if (packageDir) rmSync(packageDir, { recursive: true, force: true });
    });

    it(`answers an Anthropic client with the target's own bytes and an OpenAI client through pi ${line.version}'s pi-ai`, async () => {
      emulator.enqueue({ text: "Hello from D." });
      const message = await fx.anthropic.messages.create({
        model: "auto-router/claude",
        max_tokens: 100,
        messages: [{ role: "user", content: "Say hi" }],
      });
      assert.deepEqual(message.content, [{ type: "text", text: "Hello from D." }]);
      // pi's model registry resolved the key from models.json; the gateway token did not travel upstream.
      assert.equal(emulator.calls[0]!.headers["x-api-key"], "sk-ant-mock-d-key-000004");

      emulator.enqueue({ text: "Translated by pi-ai." });
      const { data: completion, response } = await fx.openai.chat.completions
        .create({ model: "auto-router/claude", messages: [{ role: "user", content: "Say hi again" }] })
        .withResponse();
      assert.equal(completion.choices[0]!.message.content, "Translated by pi-ai.");
      assert.equal(response.headers.get("x-auto-router-served-by"), "mock-d/model-d");
      assert.equal(emulator.calls.length, 2);
      assert.equal(emulator.calls[1]!.headers["x-api-key"], "sk-ant-mock-d-key-000004");
    });

    it("uses the pi that AUTO_ROUTER_PI_DIR names when none is on PATH, and names a folder that holds no pi", async () => {
      const piDir = join(REPO_ROOT, "test", line.prefix, "node_modules", "@earendil-works", "pi-coding-agent");
      const gateway = await startGatewayProcess({
        agentDir: fx.agentDir,
        node: NODE_22,
        bin: join(packageDir, "bin", "pi-auto-router.mjs"),
        env: { PATH: BASE_PATH, NODE_OPTIONS: undefined, AUTO_ROUTER_PI_DIR: piDir },
      });
      try {
        emulator.enqueue({ text: "Found through AUTO_ROUTER_PI_DIR." });
        const client = new Anthropic({ baseURL: gateway.url, apiKey: gateway.token, maxRetries: 0 });
        const message = await client.messages.create({
          model: "auto-router/claude",
          max_tokens: 100,
          messages: [{ role: "user", content: "Say hi" }],
        });
        assert.deepEqual(message.content, [{ type: "text", text: "Found through AUTO_ROUTER_PI_DIR." }]);
      } finally {
        await gateway.stop();
      }
      const wrong = await runGatewayCommand(fx.agentDir, ["serve", "--port", "0"], {
        node: NODE_22,
        bin: join(packageDir, "bin", "pi-auto-router.mjs"),
        env: { PATH: BASE_PATH, NODE_OPTIONS: undefined, AUTO_ROUTER_PI_DIR: packageDir },
      });
      assert.notEqual(wrong.code, 0);
      assert.ok(
        wrong.stderr.includes(`AUTO_ROUTER_PI_DIR=${packageDir}: expected the folder of an installed`),
        wrong.stderr,
      );
    });

    it("says how to point it at pi when no pi is installed beside it or on PATH", async () => {
      const run = await runGatewayCommand(fx.agentDir, ["serve", "--port", "0"], {
        node: NODE_22,
        bin: join(packageDir, "bin", "pi-auto-router.mjs"),
        env: { PATH: BASE_PATH, NODE_OPTIONS: undefined },
      });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /@mariozechner\/pi-ai is not installed beside pi-auto-router and no pi was found/);
      assert.match(run.stderr, /AUTO_ROUTER_PI_DIR/);
      // One line naming the command, not an uncaught exception with its stack.
      assert.deepEqual(
        run.stderr
          .trim()
          .split("\n")
          .map((text) => text.slice(0, 16)),
        ["pi-auto-router: "],
      );
      // The version, the help and a usage error need no pi: only serve loads it.
      const withoutPi = (args: string[]) =>
        runGatewayCommand(fx.agentDir, args, {
          node: NODE_22,
          bin: join(packageDir, "bin", "pi-auto-router.mjs"),
          env: { PATH: BASE_PATH, NODE_OPTIONS: undefined },
        });
      const version = await withoutPi(["--version"]);
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, /^pi-auto-router \d+\.\d+\.\d+\n$/);
      const help = await withoutPi(["serve", "--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^usage: pi-auto-router serve \[--port N\]/);
      assert.match(help.stdout, /--agent-dir D {3}pi's agent dir/);
      assert.equal(help.stderr, "");
      const mistyped = await withoutPi(["serve", "--prot", "0"]);
      assert.equal(mistyped.code, 2);
      assert.equal(
        mistyped.stderr,
        "pi-auto-router serve: unknown argument --prot; did you mean --port?\nusage: pi-auto-router serve [--port N] [--host H] [--agent-dir D] [--allow-remote]\n",
      );
      const remote = await withoutPi(["serve", "--host", "0.0.0.0"]);
      assert.equal(remote.code, 2);
      assert.match(remote.stderr, /^pi-auto-router serve: --host 0\.0\.0\.0 is not a loopback address/);
    });
  });
}
