// What the router tells a pi user in its command outputs and start-up notices, through the real pi CLI: the explain
// hint names a command that runs from anywhere, a provider without credentials is not called healthy (as the
// gateway's /health/providers does not), the "loaded twice" notice is right for a copy given with -e, and a route
// name mistyped to --model gets a suggestion.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { EXTENSION_ENTRY, makeAgentDir, REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { startGatewayProcess } from "../helpers/gateway-process.ts";
import { runPi } from "../helpers/pi-cli.ts";

// Never called: no test here sends a prompt to a target.
const UNREACHABLE = "http://127.0.0.1:9/v1";
const MANIFEST = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
// pi's and the router's environment names for a DeepSeek key must not leak in from the machine running the tests.
const NO_DEEPSEEK_KEY = { DEEPSEEK_API_KEY: "", DEEPSEEK_KEY: "" };

const cleanups: Array<() => void> = [];
after(() => {
  for (const cleanup of cleanups) cleanup();
});

function agentDir(): string {
  const dir = makeAgentDir({
    providers: {
      "mock-a": { baseUrl: UNREACHABLE, api: "openai-completions", apiKey: "sk-h4", models: [{ id: "model-a" }] },
    },
    routes: { routes: { main: routeInOrder("mock-a/model-a") } },
  });
  cleanups.push(dir.cleanup);
  return dir.agentDir;
}

/** A second copy of the package (its entry, bundle and scripts) in `parent`, at version 9.9.9. */
function packageCopy(parent: string): string {
  copyFileSync(EXTENSION_ENTRY, join(parent, "pi-extension.ts"));
  symlinkSync(join(REPO_ROOT, "dist"), join(parent, "dist"));
  symlinkSync(join(REPO_ROOT, "scripts"), join(parent, "scripts"));
  writeFileSync(join(parent, "package.json"), JSON.stringify({ ...MANIFEST, version: "9.9.9", scripts: {} }));
  return join(parent, "pi-extension.ts");
}

describe("the pi extension's command texts", () => {
  it("explain's hint names the routing-stats script and this process's event log by paths that run from any folder, quoted when they have a space", async () => {
    const copy = join(freshDir("auto-router-copy"), "pi auto router's copy");
    mkdirSync(copy);
    // The log of earlier runs, in a log dir only this pi process is told of.
    const logDir = join(freshDir("auto-router-logs"), "old's logs");
    mkdirSync(logDir);
    copyFileSync(join(REPO_ROOT, "test/fixtures/events/ours.jsonl"), join(logDir, "auto-router.events.jsonl"));
    const dir = agentDir();
    const run = await runPi({
      agentDir: dir,
      extension: packageCopy(copy),
      env: { AUTO_ROUTER_LOG_DIR: logDir },
      args: ["--model", "auto-router/main", "-p", "/auto-router explain"],
    });
    assert.equal(run.code, 0, run.stderr);
    const hint = /see (node .*)\)$/m.exec(run.stdout + run.stderr)?.[1];
    const quoted = (path: string) => `'${path.replaceAll("'", "'\\''")}'`;
    assert.equal(hint, `node ${quoted(`${copy}/scripts/routing-stats.mjs`)} --file ${quoted(logDir)}`);
    // The shell runs it as printed, from a folder that is not the package's and without the agent dir or log dir pi
    // had: it reads this process's log (the fixture's 6 finished requests), not the one of the shell's home.
    const { AUTO_ROUTER_LOG_DIR: _log, PI_CODING_AGENT_DIR: _agent, ...environment } = process.env;
    const stats = spawnSync("sh", ["-c", hint!], {
      cwd: freshDir("auto-router-elsewhere"),
      env: { ...environment, HOME: freshDir("auto-router-other-home") },
      encoding: "utf8",
    });
    assert.equal(stats.status, 0, stats.stderr);
    assert.match(stats.stdout, /^requests\s+6 /m, stats.stdout);
  });

  it("says a provider pi has no credentials for is not ok, as the gateway's /health/providers does", async () => {
    // pi's built-in deepseek provider pointed at a local address, without an apiKey: pi finds no credential.
    const dir = makeAgentDir({ routes: { routes: { main: routeInOrder("deepseek/deepseek-h4") } } });
    cleanups.push(dir.cleanup);
    writeFileSync(
      join(dir.agentDir, "models.json"),
      JSON.stringify({
        providers: { deepseek: { baseUrl: UNREACHABLE, api: "openai-completions", models: [{ id: "deepseek-h4" }] } },
      }),
    );
    const run = await runPi({
      agentDir: dir.agentDir,
      env: NO_DEEPSEEK_KEY,
      args: ["--model", "auto-router/main", "-p", "/auto-router health"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout + run.stderr,
      /^deepseek: NOT OK \(no credentials: \/login or an API key\); credentials none$/m,
    );
    assert.doesNotMatch(run.stdout + run.stderr, /healthy/);

    const gateway = await startGatewayProcess({ agentDir: dir.agentDir, env: NO_DEEPSEEK_KEY });
    try {
      const response = await fetch(`${gateway.url}/health/providers`, {
        headers: { authorization: `Bearer ${gateway.token}` },
      });
      const body = (await response.json()) as any;
      assert.equal(response.status, 503);
      assert.deepEqual(
        body.providers.map((provider: any) => [provider.provider, provider.ok, provider.credentials]),
        [["deepseek", false, "none"]],
      );
    } finally {
      await gateway.stop();
    }
  });

  it("words the loaded-twice notice so it is right for a copy given with -e, which pi list does not show", async () => {
    const copy = packageCopy(freshDir("auto-router-second-copy"));
    const run = await runPi({
      agentDir: agentDir(),
      args: ["-e", copy, "--model", "auto-router/main", "-p", "/auto-router status"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /pi-auto-router is loaded twice: .* \(9\.9\.9\) stays off\./);
    assert.doesNotMatch(run.stderr, /pi list shows both/);
    assert.match(
      run.stderr,
      /an installed one with pi remove <source> \(pi list shows them\); one given with -e, .* is not in pi list: drop it there\./,
    );
  });

  it("suggests the route a name given to --model was probably meant to be", async () => {
    const dir = agentDir();
    const run = await runPi({ agentDir: dir, args: ["--model", "auto-router/mian", "-p", "hello"] });
    assert.notEqual(run.code, 0);
    assert.match(
      run.stderr,
      /auto-router: route mian is not in the config \(known: main\); did you mean auto-router\/main\?/,
    );
    // No target was called: the router refused the request, as the event log says (the reports count it so).
    const finals = readLoggedEvents(dir).filter((event) => event.type === "final");
    assert.deepEqual(
      finals.map((event) => [event.routeId, event.data.outcome, event.data.attempts]),
      [["mian", "refused", 0]],
    );
  });
});
