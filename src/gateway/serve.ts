// `pi-auto-router serve`: the engine with pi's registry, the gateway token, the HTTP server, a graceful stop on
// SIGTERM/SIGINT (drain, flush the stores, exit 0; a second one exits at once), and SIGHUP re-reading the routes file.
import { existsSync, statSync } from "node:fs";
import { constants, homedir } from "node:os";
import { join, resolve } from "node:path";
import { createEngine } from "../engine.ts";
import { withEnvironmentKeyFallbacks } from "../runtime/env-key-fallback.ts";
import { pinCredential, redactText } from "../state/redact.ts";
import { MIN_REMEMBERED_CREDENTIAL_LENGTH } from "../state/remembered-credentials.ts";
import { directoryProblem } from "../state/state-file.ts";
import { expandTilde } from "../tilde-path.ts";
import { DEFAULT_HOST, type ServeArguments } from "./cli-arguments.ts";
import { followRoutesFile } from "./config-watch.ts";
import { guardConsole } from "./console-guard.ts";
import { openRegistry } from "./credentials.ts";
import { DirectRoutes } from "./model-names.ts";
import { GATEWAY_START_SETTINGS, type Gateway, startGateway } from "./server.ts";
import { batchedLines } from "./stderr-lines.ts";
import { resolveToken } from "./token.ts";

/** Runs the gateway on checked arguments (cli-arguments.ts) until SIGTERM/SIGINT; resolves with the exit code. */
export async function serve(options: ServeArguments, env: Record<string, string | undefined>): Promise<number> {
  // SIGHUP (the daemon convention, and what a closed terminal sends) never stops the gateway, from here to the exit.
  // It re-reads the routes file while the file is followed; before that, the engine's first read and the watcher's
  // first look cover an edit, and once the engine closes there is nothing to reload. Never removed: proper-lockfile's
  // signal-exit re-raises a signal it sees no other listener for, which would end the process while it winds down.
  let reloadOnHangup: (() => void) | undefined;
  process.on("SIGHUP", () => reloadOnHangup?.());
  // The dir pi reads (its getAgentDir): an empty PI_CODING_AGENT_DIR is unset, and a leading `~` is the home dir (a
  // systemd Environment= line, a Docker env file or a quoted --agent-dir passes it unexpanded).
  const fromEnv = env.PI_CODING_AGENT_DIR || undefined;
  const agentDir = resolve(expandTilde(options.agentDir ?? fromEnv ?? join(homedir(), ".pi", "agent")));
  // A mistyped --agent-dir would otherwise serve the built-in routes without a credential, as if nothing were wrong.
  const agentDirFrom = options.agentDir ? "--agent-dir" : fromEnv ? "PI_CODING_AGENT_DIR" : "the default";
  const missingAgentDir = !existsSync(agentDir);
  // A path given on the command line is the operator's own: a mistyped one is refused, not created as an empty agent
  // dir that later runs would take for pi's (the default or PI_CODING_AGENT_DIR is created, as pi creates it).
  if (options.agentDir && missingAgentDir)
    throw new Error(
      `--agent-dir ${agentDir}: no such directory; give pi's agent dir (where pi keeps auth.json, models.json and extensions/; ${join(homedir(), ".pi", "agent")} unless PI_CODING_AGENT_DIR says otherwise), or leave --agent-dir out`,
    );
  if (!missingAgentDir && !statSync(agentDir).isDirectory())
    throw new Error(`pi's agent dir ${agentDir} (${agentDirFrom}) is not a directory`);
  // Made here, as pi's auth storage makes it next, but not by Node's recursive mkdir: under /proc that never returns
  // (and the process no longer answers SIGTERM).
  const agentDirProblem = missingAgentDir ? directoryProblem(agentDir) : undefined;
  if (agentDirProblem)
    throw new Error(
      `pi's agent dir ${agentDir} (${agentDirFrom}) does not exist and cannot be created (${agentDirProblem}); expected a writable directory: set PI_CODING_AGENT_DIR to one, or give --agent-dir`,
    );
  const stderr = batchedLines((text) => process.stderr.write(text));
  process.on("exit", stderr.flush);
  // Before the engine opens anything: a library's console line (an upstream event the openai SDK cannot parse, whole)
  // is one of these lines too, redacted and without its data.
  const restoreConsole = guardConsole(stderr.line);
  const warn = (text: string) => stderr.line(redactText(text));
  const directRoutes = new DirectRoutes();
  const engine = createEngine({
    agentDir,
    processEnv: env,
    warn,
    deriveConfig: (config) => directRoutes.apply(config),
    startSettings: { paths: GATEWAY_START_SETTINGS, restart: "a restart of the gateway" },
  });
  try {
    // The same registry view as the extension: pi's credentials first, then the environment names the earlier
    // pi-auto-router documented (GOOGLE_KEY, DEEPSEEK_KEY, ...).
    engine.runtime.attachRegistry(withEnvironmentKeyFallbacks(await openRegistry(agentDir), env));
    engine.start();
    // The server settings that follow edits reach the server once it listens.
    let gateway: Gateway | undefined;
    followRoutesFile(engine, warn, () => gateway?.followEdits());
    reloadOnHangup = () => {
      stderr.line("SIGHUP: re-reading the routes file");
      engine.services.config.reloadAndConfirm(); // reports the result as for an edit: reloaded, or why it is invalid
    };
    await engine.ready(); // the first request routes on the team's state (not a stale local copy) and floors' balances
    const token = resolveToken(env, engine.services.stateDir);
    // Redacted as the targets' keys are: an upstream error quoting it never reaches the event log, stderr or a client.
    pinCredential(token.value);
    gateway = await startGateway({
      engine,
      directRoutes,
      token: token.value,
      host: options.host,
      port: options.port,
      // Its lines need no second redaction: an access line holds the method, route, status, target and time, and
      // an error line's message is redacted where it is built.
      log: stderr.line,
    }).catch((error: unknown) => {
      throw new Error(listenProblem(error, options) ?? (error instanceof Error ? error.message : String(error)));
    });
    stderr.flush();
    if (missingAgentDir)
      process.stderr.write(
        `auto-router: warning: pi's agent dir ${agentDir} (${agentDirFrom}) did not exist: no login, models.json or routes file was read from it (the built-in routes are served, with API keys from the environment only); check the path, or run pi (and /login) first\n`,
      );
    if (token.movedLink)
      process.stderr.write(
        `auto-router: warning: the gateway token file ${token.file} was a symbolic link (to ${token.movedLink.target}); it was moved aside as ${token.movedLink.aside}, and a new token was written to a file of its own\n`,
      );
    process.stderr.write(
      token.file
        ? `gateway token ${token.created ? "created in" : "read from"} ${token.file}\n`
        : "gateway token from AUTO_ROUTER_TOKEN\n",
    );
    if (token.value.length < MIN_REMEMBERED_CREDENTIAL_LENGTH)
      process.stderr.write(
        `auto-router: warning: ${token.file ? `the gateway token in ${token.file}` : "AUTO_ROUTER_TOKEN"} is ${token.value.length} characters: a token shorter than ${MIN_REMEMBERED_CREDENTIAL_LENGTH} is easy to guess and too short to be told from ordinary text, so it is not redacted from logs and error texts; use a longer one (a generated token has 46)\n`,
      );
    process.stdout.write(`listening on ${gateway.url}\n`);
    // `on`, not `once`, and left installed: proper-lockfile's signal-exit re-raises a signal when it sees no other
    // listener, which would kill the process in the middle of the drain. The first signal drains; a second one (Ctrl-C
    // twice) exits at once, with the shell's code for a process the signal ended.
    let stopping = false;
    const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
      const stop = (received: NodeJS.Signals) => {
        if (!stopping) {
          stopping = true;
          return resolveSignal(received);
        }
        stderr.flush();
        process.stderr.write(`${received} again: exiting now, without waiting for the requests in flight\n`);
        process.exit(128 + constants.signals[received]);
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    });
    stderr.flush();
    process.stderr.write(`${signal}: draining in-flight requests\n`);
    await gateway.close();
    return 0;
  } finally {
    reloadOnHangup = undefined;
    await engine.close();
    restoreConsole();
    stderr.flush();
    process.off("exit", stderr.flush);
  }
}

/** Node's words for a listen that failed (`listen EADDRINUSE: address already in use ...`) as what to do about it. */
function listenProblem(error: unknown, options: ServeArguments): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`;
  if (code === "EADDRINUSE")
    return `cannot listen on ${where}: the port is already in use (another gateway, or another program, listens there); stop it, or give another --port (--port 0 picks a free one)`;
  if (code === "EADDRNOTAVAIL")
    return `cannot listen on ${where}: --host ${options.host} is no address of this machine; give one of its addresses, or leave --host out for ${DEFAULT_HOST}`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return `cannot listen on ${where}: --host ${options.host} is no host name this machine can resolve; give an address, or leave --host out for ${DEFAULT_HOST}`;
  return undefined;
}
