// `pi-auto-router serve` (the real process) with an agent dir or state dir it cannot use: it ends with an error naming
// the directory and what was expected. Under /proc, Node's recursive mkdir never returns (and the process no longer
// answers SIGTERM), so these runs are killed with SIGKILL if they do not end on their own.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freshDir } from "../helpers/fresh-dir.ts";
import { GATEWAY_BIN } from "../helpers/gateway-process.ts";

/** Only a guard against a run that never ends (the defect): a run that works ends in about a second. */
const HANG_GUARD_MS = 60_000;

function serve(env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  const home = freshDir("pi-auto-router-gateway-home");
  const full: Record<string, string | undefined> = { ...process.env, HOME: home, PI_OFFLINE: "1", ...env };
  for (const [key, value] of Object.entries(full)) if (value === undefined) delete full[key];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GATEWAY_BIN, "serve", "--port", "0"], {
      env: full as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const guard = setTimeout(() => {
      stderr += "\n(did not end: killed)";
      child.kill("SIGKILL");
    }, HANG_GUARD_MS);
    child.once("exit", (code) => {
      clearTimeout(guard);
      rmSync(home, { recursive: true, force: true });
      resolve({ code, stderr });
    });
  });
}

describe("gateway: an agent dir or state dir it cannot use", () => {
  const parent = freshDir("pi-auto-router-gateway-state-dir");
  after(() => rmSync(parent, { recursive: true, force: true }));
  const noProc = `/proc/pi-auto-router-test-${process.pid}`;

  it("refuses an agent dir under /proc, naming it, instead of spinning", async () => {
    const agentDir = join(noProc, "agent");
    const run = await serve({ PI_CODING_AGENT_DIR: agentDir, AUTO_ROUTER_TOKEN: undefined });
    assert.equal(run.code, 2, run.stderr);
    assert.equal(
      run.stderr,
      `pi-auto-router serve: pi's agent dir ${agentDir} (PI_CODING_AGENT_DIR) does not exist and cannot be created (cannot create ${noProc}: mkdir in /proc fails with ENOENT although that exists, as on a virtual file system such as /proc); expected a writable directory: set PI_CODING_AGENT_DIR to one, or give --agent-dir\n`,
    );
  });

  it("refuses a state dir under /proc without AUTO_ROUTER_TOKEN, naming it", async () => {
    const agentDir = join(parent, "agent-proc-state");
    mkdirSync(agentDir);
    const stateDir = join(noProc, "state");
    const run = await serve({
      PI_CODING_AGENT_DIR: agentDir,
      AUTO_ROUTER_LOG_DIR: stateDir,
      AUTO_ROUTER_TOKEN: undefined,
    });
    assert.equal(run.code, 2, run.stderr);
    const why = `cannot create ${noProc}: mkdir in /proc fails with ENOENT although that exists, as on a virtual file system such as /proc`;
    assert.match(run.stderr, new RegExp(`state directory ${stateDir} \\(from AUTO_ROUTER_LOG_DIR\\) is not usable`));
    assert.ok(
      run.stderr.endsWith(
        `pi-auto-router serve: state directory ${stateDir} is not usable (${why}): the gateway keeps its token there (auto-router.gateway-token) and expects a writable directory; set AUTO_ROUTER_LOG_DIR or logDir to one, or give the token in AUTO_ROUTER_TOKEN\n`,
      ),
      run.stderr,
    );
  });

  it("says a state dir that is a file is not a directory, without a raw ENOTDIR", async () => {
    const agentDir = join(parent, "agent-file-state");
    mkdirSync(agentDir);
    const stateDir = join(agentDir, "extensions");
    writeFileSync(stateDir, "");
    const run = await serve({ PI_CODING_AGENT_DIR: agentDir, AUTO_ROUTER_TOKEN: undefined });
    assert.equal(run.code, 2, run.stderr);
    assert.ok(
      run.stderr.endsWith(
        `pi-auto-router serve: state directory ${stateDir} is not usable (it is a file, not a directory): the gateway keeps its token there (auto-router.gateway-token) and expects a writable directory; set AUTO_ROUTER_LOG_DIR or logDir to one, or give the token in AUTO_ROUTER_TOKEN\n`,
      ),
      run.stderr,
    );
    assert.doesNotMatch(run.stderr, /ENOTDIR: not a directory|cannot read the gateway token/); // Node's own text
  });
});
