// The ways a user installs the package: the npm package (no runtime dependencies: the bundles carry them, and
// neither tsx nor TypeScript is needed at runtime), `pi install <local path>` and `pi install <git url>` (pi clones,
// runs `npm install`, whose `prepare` builds the bundles with the devDependencies).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, REPO_ROOT } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { piCommand, piEnvironment, runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { GATEWAY_BUNDLE_FILE } from "../helpers/gateway-process.ts";

/**
 * What the extension adds beyond pi. The gateway's own bundle (dist/gateway*.mjs, ~1.4 MB, mostly fastify and its
 * schema compiler) is measured apart: it serves `pi-auto-router serve`, which pi never loads.
 */
const MAX_INSTALLED_BYTES = 2 * 1024 * 1024;
const MAX_GATEWAY_BUNDLE_BYTES = 1.5 * 1024 * 1024;
const GIT_INSTALL_TIMEOUT_MS = 600_000;
const PROMPT_TIMEOUT_MS = 120_000;

function directoryBytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + directoryBytes(join(path, entry)), 0);
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): string {
  const result = spawnSync(command, args, { ...options, encoding: "utf8" });
  assert.equal(result.status, 0, `${command} ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** `pi install <source>` with the test's agent dir and HOME; async, so the emulators keep answering. */
function piInstall(
  source: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  const { node, cli, nodeFlags } = piCommand();
  const child = spawn(node, [...nodeFlags, cli, "install", source], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("installing the package", () => {
  let emulator: Emulator;
  let scratch: string;
  before(async () => {
    emulator = await startOpenAIEmulator({ name: "A" });
    scratch = freshDir("pi-auto-router-install");
  });
  after(async () => {
    await emulator.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A fresh agent dir and HOME; pi then answers one prompt through whatever package was installed into it. */
  function user(name: string) {
    const home = join(scratch, `${name}-home`);
    mkdirSync(home, { recursive: true });
    const dir = makeAgentDir({
      providers: {
        "mock-a": { baseUrl: emulator.url, api: "openai-completions", apiKey: "sk-a", models: [{ id: "model-a" }] },
      },
      routes: { routes: { r: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
    });
    const env = piEnvironment(dir.agentDir, { HOME: home });
    const prompt = async (text: string) => {
      emulator.reset();
      emulator.setDefault({ text });
      // A first start of an installed package (pi transpiles its entry) on a busy machine: a generous kill guard.
      const answer = await runPi({
        agentDir: dir.agentDir,
        extension: "installed",
        env: { HOME: home },
        args: ["--model", "auto-router/r", "-p", "hello"],
        timeoutMs: PROMPT_TIMEOUT_MS,
      });
      assert.equal(answer.code, 0, answer.stderr);
      assert.equal(answer.stdout.trim(), text);
    };
    return { dir, env, home, prompt };
  }

  it("as the npm package: no dependencies, at most 2 MB for the extension (1.5 MB more for the gateway), runs in pi and runs the stats scripts without tsx", async () => {
    const packed = run("npm", ["pack", "--ignore-scripts", "--pack-destination", scratch], {
      cwd: REPO_ROOT,
      env: process.env,
    })
      .trim()
      .split("\n")
      .pop()!;
    const project = join(scratch, "project");
    mkdirSync(project);
    const { dir, env, prompt } = user("npm");
    try {
      run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(scratch, packed)], { cwd: project, env });
      assert.deepEqual(
        readdirSync(join(project, "node_modules")).filter((name) => !name.startsWith(".")),
        ["pi-auto-router"],
      );
      const installed = join(project, "node_modules", "pi-auto-router");
      const dist = join(installed, "dist");
      const gatewayFiles = readdirSync(dist).filter((name) => GATEWAY_BUNDLE_FILE.test(name));
      assert.ok(gatewayFiles.includes("gateway.mjs"), gatewayFiles.join(", "));
      const gatewayBytes = gatewayFiles.reduce((sum, name) => sum + statSync(join(dist, name)).size, 0);
      const extensionBytes = directoryBytes(join(project, "node_modules")) - gatewayBytes;
      assert.ok(
        extensionBytes <= MAX_INSTALLED_BYTES,
        `installed size without the gateway bundle: ${extensionBytes} bytes`,
      );
      assert.ok(gatewayBytes <= MAX_GATEWAY_BUNDLE_BYTES, `gateway bundle: ${gatewayBytes} bytes`);
      const logs = join(REPO_ROOT, "test", "fixtures", "events", "auto-router.events.jsonl");
      const stats = spawnSync(
        process.execPath,
        [join(installed, "scripts", "routing-stats.mjs"), "--json", "--file", logs],
        { env, encoding: "utf8" },
      );
      assert.equal(stats.status, 0, stats.stderr);
      assert.equal(JSON.parse(stats.stdout).log.events, 8);
      const installedByPi = await piInstall(installed, env, project, 60_000);
      assert.equal(installedByPi.code, 0, installedByPi.output);
      await prompt("served by the npm package");
    } finally {
      dir.cleanup();
    }
  });

  it("with pi install <local path> of a checkout", async () => {
    const { dir, env, prompt } = user("local");
    try {
      const installed = await piInstall(REPO_ROOT, env, dir.agentDir, 60_000);
      assert.equal(installed.code, 0, installed.output);
      assert.match(readFileSync(join(dir.agentDir, "settings.json"), "utf8"), /"packages"/);
      await prompt("served by the local checkout");
    } finally {
      dir.cleanup();
    }
  });

  it("with a second copy installed beside the first (an upgrade without pi remove): one routes, the other stays off and says so", async () => {
    const { dir, env } = user("twice");
    const copy = join(scratch, "second-copy");
    try {
      mkdirSync(copy);
      copyFileSync(join(REPO_ROOT, "pi-extension.ts"), join(copy, "pi-extension.ts"));
      symlinkSync(join(REPO_ROOT, "dist"), join(copy, "dist"));
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
      writeFileSync(join(copy, "package.json"), JSON.stringify({ ...manifest, version: "9.9.9", scripts: {} }));
      for (const source of [REPO_ROOT, copy]) {
        const installed = await piInstall(source, env, dir.agentDir, 60_000);
        assert.equal(installed.code, 0, installed.output);
      }
      emulator.reset();
      const run = await runPi({
        agentDir: dir.agentDir,
        extension: "installed",
        env: { HOME: env.HOME! },
        args: ["--model", "auto-router/r", "-p", "/auto-router status"],
        timeoutMs: PROMPT_TIMEOUT_MS,
      });
      assert.equal(run.code, 0, run.stderr);
      // The command ran (pi would otherwise have sent "/auto-router status" to the model as a prompt).
      assert.equal(emulator.calls.length, 0);
      assert.match(run.stderr, /^routes: r$/m);
      assert.match(
        run.stderr,
        new RegExp(
          `pi-auto-router is loaded twice: ${REPO_ROOT} \\(${manifest.version}\\) routes, ${copy} \\(9\\.9\\.9\\) stays off`,
        ),
      );
    } finally {
      dir.cleanup();
    }
  });

  it("with pi install <git url>: pi clones, npm install builds the bundles, pi runs them", {
    timeout: GIT_INSTALL_TIMEOUT_MS + 60_000,
  }, async () => {
    // A bare clone of this repository's HEAD, served over git's "dumb" HTTP protocol (static files).
    // pi takes a git URL with at least two path segments (owner/repository).
    const served = join(scratch, "git");
    const repository = join(served, "local", "pi-auto-router.git");
    run("git", ["clone", "--bare", "--quiet", REPO_ROOT, repository], { cwd: scratch, env: process.env });
    run("git", ["update-server-info"], { cwd: repository, env: process.env });
    const server = createServer((request, response) => {
      const path = join(served, decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
      if (!path.startsWith(served) || !existsSync(path) || statSync(path).isDirectory())
        return void response.writeHead(404).end();
      response.writeHead(200).end(readFileSync(path));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const { dir, env, prompt } = user("git");
    try {
      // npm's download cache is this machine's (the registry is the only network); all else is in the temporary HOME.
      const cache = spawnSync("npm", ["config", "get", "cache"], { encoding: "utf8" }).stdout.trim();
      const installEnv = {
        ...env,
        npm_config_cache: cache,
        npm_config_prefer_offline: "true",
        npm_config_audit: "false",
        npm_config_fund: "false",
      };
      const installed = await piInstall(
        `http://127.0.0.1:${port}/local/pi-auto-router.git`,
        installEnv,
        dir.agentDir,
        GIT_INSTALL_TIMEOUT_MS,
      );
      assert.equal(installed.code, 0, installed.output);
      const clone = join(dir.agentDir, "git", "127.0.0.1", "local", "pi-auto-router");
      assert.ok(existsSync(join(clone, "dist", "auto-router.cjs")), `no bundle in ${clone}`);
      await prompt("served by the git install");
    } finally {
      server.close();
      dir.cleanup();
    }
  });
});
