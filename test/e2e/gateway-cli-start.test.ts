// What `pi-auto-router serve` reads and refuses at start, through the real process: the agent dir as pi reads it (an
// empty --agent-dir refused, an empty PI_CODING_AGENT_DIR unset, a literal `~` the home dir), a gateway token no
// HTTP header can carry refused naming where it came from (never the token), a short token file warned about, and
// SIGHUP, which does not end the process: not before it listens, not while it stops.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { GATEWAY_BIN } from "../helpers/gateway-process.ts";

const TOKEN = "test-gateway-token-0123456789";

interface Served {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code; "killed by <signal>" when a signal ended it. */
  exited: Promise<number | string>;
  /** The URL once it listens; undefined when it exited first. */
  listening: Promise<string | undefined>;
}

const started: Served[] = [];
// A test that failed half-way leaves no gateway running.
afterEach(async () => {
  for (const run of started.splice(0)) {
    run.child.kill("SIGKILL");
    await run.exited;
  }
});

/**
 * The bin in a working directory of its own (a gateway that took the current directory for its agent dir writes
 * there, not into the checkout), with HOME, PI_CODING_AGENT_DIR and AUTO_ROUTER_TOKEN only as given.
 */
function serve(options: { cwd: string; home: string; env?: Record<string, string>; args?: string[] }): Served {
  const env: Record<string, string | undefined> = { ...process.env, HOME: options.home, PI_OFFLINE: "1" };
  delete env.PI_CODING_AGENT_DIR;
  delete env.AUTO_ROUTER_TOKEN;
  Object.assign(env, options.env);
  const port = options.args?.some((arg) => arg.startsWith("--port")) ? [] : ["--port", "0"];
  const child = spawn(process.execPath, [GATEWAY_BIN, "serve", ...port, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ? `killed by ${signal}` : code!)),
  );
  const listening = new Promise<string | undefined>((resolve) => {
    child.stdout!.on("data", () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    exited.then(() => resolve(undefined));
  });
  const run = { child, stdout: () => stdout, stderr: () => stderr, exited, listening };
  started.push(run);
  return run;
}

/** Runs it to its exit; one that listens instead of refusing is stopped, and says so. */
async function refusal(options: Parameters<typeof serve>[0]) {
  const run = serve(options);
  const url = await run.listening;
  if (url) run.child.kill("SIGTERM");
  return { code: await run.exited, listened: url !== undefined, stdout: run.stdout(), stderr: run.stderr() };
}

async function modelIds(url: string, token = TOKEN): Promise<string[]> {
  const response = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { data: Array<{ id: string }> }).data.map((model) => model.id);
}

function writeRoutes(agentDir: string, routeId: string): void {
  mkdirSync(join(agentDir, "extensions"), { recursive: true });
  writeFileSync(
    join(agentDir, "extensions", ROUTES_FILE_NAME),
    JSON.stringify({ routes: { [routeId]: { targets: [{ provider: "anthropic", modelId: "claude-sonnet-4-5" }] } } }),
  );
}

describe("gateway start: where it listens", () => {
  it("says a port already in use is in use, and what to do, instead of Node's EADDRINUSE (exit 2)", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const cwd = freshDir("pi-auto-router-cwd");
      const home = freshDir("pi-auto-router-home");
      const run = await refusal({ cwd, home, args: ["--port", String(port)], env: { AUTO_ROUTER_TOKEN: TOKEN } });
      assert.equal(run.listened, false, run.stderr);
      assert.equal(run.code, 2);
      assert.equal(
        run.stderr,
        `pi-auto-router serve: cannot listen on 127.0.0.1:${port}: the port is already in use (another gateway, or another program, listens there); stop it, or give another --port (--port 0 picks a free one)\n`,
      );
    } finally {
      taken.close();
    }
  });
});

describe("gateway start: pi's agent dir", () => {
  it("refuses an empty --agent-dir (exit 2), writing nothing into the current directory", async () => {
    const cwd = freshDir("pi-auto-router-cwd");
    const home = freshDir("pi-auto-router-home");
    for (const args of [["--agent-dir", ""], ["--agent-dir="]]) {
      const run = await refusal({ cwd, home, args, env: { AUTO_ROUTER_TOKEN: TOKEN } });
      assert.equal(run.listened, false, `${args.join(" ")} served:\n${run.stderr}`);
      assert.equal(run.code, 2, args.join(" "));
      assert.match(run.stderr, /^pi-auto-router serve: --agent-dir: expected pi's agent dir, got ""\nusage: /);
      assert.deepEqual(readdirSync(cwd), []);
    }
  });

  it("takes an empty PI_CODING_AGENT_DIR for unset, as pi does: ~/.pi/agent", async () => {
    const cwd = freshDir("pi-auto-router-cwd");
    const home = freshDir("pi-auto-router-home");
    writeRoutes(join(home, ".pi", "agent"), "home-route");
    const run = serve({ cwd, home, env: { PI_CODING_AGENT_DIR: "", AUTO_ROUTER_TOKEN: TOKEN } });
    const url = await run.listening;
    assert.ok(url, run.stderr());
    assert.deepEqual(await modelIds(url), ["auto-router/home-route"]);
    run.child.kill("SIGTERM");
    assert.equal(await run.exited, 0, run.stderr());
    assert.doesNotMatch(run.stderr(), /did not exist/);
    assert.deepEqual(readdirSync(cwd), [], "nothing was written into the current directory");
  });

  for (const [how, env, args] of [
    ["PI_CODING_AGENT_DIR", { PI_CODING_AGENT_DIR: "~/pi-agent-x" }, []],
    ["a quoted --agent-dir", {}, ["--agent-dir", "~/pi-agent-x"]],
  ] as const) {
    it(`reads a leading ~ in ${how} as the home dir, as pi does`, async () => {
      const cwd = freshDir("pi-auto-router-cwd");
      const home = freshDir("pi-auto-router-home");
      writeRoutes(join(home, "pi-agent-x"), "tilde-route");
      const run = serve({ cwd, home, args: [...args], env: { ...env, AUTO_ROUTER_TOKEN: TOKEN } });
      const url = await run.listening;
      assert.ok(url, run.stderr());
      assert.deepEqual(await modelIds(url), ["auto-router/tilde-route"]);
      run.child.kill("SIGTERM");
      assert.equal(await run.exited, 0, run.stderr());
      assert.deepEqual(readdirSync(cwd), [], "no `~` dir was made in the current directory");
    });
  }
});

describe("gateway start: the token", () => {
  const tokenFile = (agentDir: string) => join(agentDir, "extensions", "auto-router.gateway-token");

  it("refuses a token no HTTP header can carry, naming the file or AUTO_ROUTER_TOKEN, never the token", async () => {
    const cwd = freshDir("pi-auto-router-cwd");
    const home = freshDir("pi-auto-router-home");
    const agentDir = join(home, "agent");
    mkdirSync(join(agentDir, "extensions"), { recursive: true });
    const file = tokenFile(agentDir);
    for (const [token, where, found] of [
      ["secret-first-line-0123\nsecret-second-line-4567\n", "file", "a line break"],
      ["tök-secret-0123456789abcdef\n", "file", "a character that is not visible ASCII"],
      ["secret-first-line-0123\nsecret-second-line-4567", "env", "a line break"],
      ["secret-with a-space-0123456789", "env", "a space or other whitespace"],
    ] as const) {
      if (where === "file") writeFileSync(file, token);
      const run = await refusal({
        cwd,
        home,
        env: { PI_CODING_AGENT_DIR: agentDir, ...(where === "env" ? { AUTO_ROUTER_TOKEN: token } : {}) },
      });
      assert.equal(run.listened, false, `${JSON.stringify(token)} served:\n${run.stderr}`);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(
        run.stderr,
        `pi-auto-router serve: ${where === "file" ? file : "AUTO_ROUTER_TOKEN"}: the gateway token holds ${found}, which no client can send in an HTTP header; a token is one line of visible ASCII characters (letters, digits and punctuation, 0x21-0x7E), without spaces\n`,
      );
      assert.doesNotMatch(run.stderr + run.stdout, /secret|ö/);
    }
  });

  it("warns about a short token in the token file, naming the file, and serves with it", async () => {
    const cwd = freshDir("pi-auto-router-cwd");
    const home = freshDir("pi-auto-router-home");
    const agentDir = join(home, "agent");
    mkdirSync(join(agentDir, "extensions"), { recursive: true });
    writeFileSync(tokenFile(agentDir), "hunter2\n");
    const run = serve({ cwd, home, env: { PI_CODING_AGENT_DIR: agentDir } });
    const url = await run.listening;
    assert.ok(url, run.stderr());
    await modelIds(url, "hunter2"); // a 200 with it
    run.child.kill("SIGTERM");
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(
      run.stderr(),
      new RegExp(
        `^auto-router: warning: the gateway token in ${tokenFile(agentDir).replace(/[.]/g, "\\.")} is 7 characters: a token shorter than 12 is easy to guess`,
        "m",
      ),
    );
  });
});

/** Whether process `pid` has `path` open (its /proc fd links; a process that is gone has nothing open). */
function holdsOpen(pid: number, path: string): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
    } catch {
      return false; // closed while it was looked at
    }
  });
}

describe("gateway SIGHUP over the process's life", () => {
  it("survives a SIGHUP before it listens, then serves and stops with 0", async () => {
    const cwd = freshDir("pi-auto-router-cwd");
    const home = freshDir("pi-auto-router-home");
    const agentDir = join(home, "agent");
    writeRoutes(agentDir, "main");
    // models.json as a named pipe: each read of it at start waits for this test to write it, so the SIGHUP is sent
    // while the gateway is provably starting (reading pi's files), not yet listening.
    const fifo = join(agentDir, "models.json");
    execFileSync("mkfifo", [fifo]);
    const run = serve({ cwd, home, env: { PI_CODING_AGENT_DIR: agentDir, AUTO_ROUTER_TOKEN: TOKEN } });
    let listened = false;
    let ended = false;
    run.listening.then(() => (listened = true));
    run.exited.then(() => (ended = true));
    let hangups = 0;
    while (!listened && !ended) {
      let writer: number | undefined;
      try {
        // Opens only while the gateway has the pipe open for reading (ENXIO otherwise).
        writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw error;
      }
      if (writer === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (hangups === 0) {
        run.child.kill("SIGHUP");
        hangups++;
      }
      writeSync(writer, '{"providers":{}}');
      // One copy a read: two in the pipe at once are read as one file. The write end stays open until the gateway has
      // the pipe open (it cannot reach the end of the file before), and the next copy waits until it closed it.
      const pid = run.child.pid!;
      while (!ended && !holdsOpen(pid, fifo)) await new Promise((resolve) => setTimeout(resolve, 5));
      closeSync(writer);
      while (!ended && holdsOpen(pid, fifo)) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(hangups, 1, "the SIGHUP was sent while the gateway read models.json");
    const url = await run.listening;
    assert.ok(url, run.stderr());
    assert.deepEqual(await modelIds(url), ["auto-router/main"]);
    run.child.kill("SIGTERM");
    assert.equal(await run.exited, 0, run.stderr());
  });

  it("survives SIGHUPs all through its stop, to the exit: the SIGTERM still exits 0", async () => {
    const cwd = freshDir("pi-auto-router-cwd");
    const home = freshDir("pi-auto-router-home");
    const agentDir = join(home, "agent");
    writeRoutes(agentDir, "main");
    const run = serve({ cwd, home, env: { PI_CODING_AGENT_DIR: agentDir, AUTO_ROUTER_TOKEN: TOKEN } });
    assert.ok(await run.listening, run.stderr());
    let ended = false;
    run.exited.then(() => (ended = true));
    run.child.kill("SIGTERM");
    // One SIGHUP after another until the process is gone: through the drain, the stores' close and the exit itself.
    let hangups = 0;
    while (!ended) {
      if (run.child.kill("SIGHUP")) hangups++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(hangups > 0);
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(run.stderr(), /^SIGTERM: draining in-flight requests$/m);
  });
});
