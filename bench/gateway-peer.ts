// The peer gateway the bench measures side by side: @musistudio/claude-code-router, installed by the bench into its
// own folder (.tmp/ccr) with `npm install --prefix`, run with HOME in a temp dir and a config that fronts the
// bench's Anthropic emulator (its "Anthropic" transformer passes the Messages protocol through). Nothing of it is a
// dependency of this package. When it cannot be installed or started, the caller gets the reason to print.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../test/helpers/agent-dir.ts";

export const PEER_PACKAGE = "@musistudio/claude-code-router";
/** Pinned. 3.1.1 (the newest) cannot be installed: its dependency @the-next-ai/ai-gateway answers 404 on npm. */
export const PEER_VERSION = "2.0.0";
const PEER_FOLDER = join(REPO_ROOT, ".tmp", "ccr");
const PEER_KEY = "ccr-bench-key-0123456789";
const START_TIMEOUT_MS = 30_000;

export interface PeerGateway {
  label: string;
  origin: string;
  apiKey: string;
  pid: number;
  stop(): Promise<void>;
}

function installedVersion(): string | undefined {
  try {
    return JSON.parse(readFileSync(join(PEER_FOLDER, "node_modules", PEER_PACKAGE, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

/** Installs the pinned peer unless it is there already; returns the reason when it is not available. */
export function installPeer(): { ok: true } | { ok: false; reason: string } {
  if (installedVersion() === PEER_VERSION) return { ok: true };
  mkdirSync(PEER_FOLDER, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(
    npm,
    [
      "install",
      "--prefix",
      PEER_FOLDER,
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--no-save",
      "--fetch-retries=1",
      "--fetch-timeout=20000",
      `${PEER_PACKAGE}@${PEER_VERSION}`,
    ],
    {
      encoding: "utf8",
      timeout: 180_000,
    },
  );
  if (result.status === 0 && installedVersion() === PEER_VERSION) return { ok: true };
  const output = `${result.stderr ?? ""}${result.stdout ?? ""}`
    .trim()
    .split("\n")
    .filter((line) => /error|ERR|ENOTFOUND|EAI_AGAIN|404/i.test(line))
    .slice(0, 3)
    .join(" | ");
  return {
    ok: false,
    reason: `npm install ${PEER_PACKAGE}@${PEER_VERSION} failed (${result.error?.message ?? `exit ${result.status}`}): ${output || "no output"}`,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForListening(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${output().slice(-500)}`);
    const up = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`did not listen on port ${port} within ${START_TIMEOUT_MS / 1000} s: ${output().slice(-500)}`);
}

/** Starts the installed peer in front of an Anthropic-protocol emulator at `emulatorOrigin`. */
export async function startPeer(emulatorOrigin: string): Promise<PeerGateway> {
  const home = mkdtempSync(join(tmpdir(), "pi-auto-router-ccr-home-"));
  const port = await freePort();
  const config = {
    LOG: false,
    HOST: "127.0.0.1",
    PORT: port,
    APIKEY: PEER_KEY,
    Providers: [
      {
        name: "emulator",
        api_base_url: `${emulatorOrigin}/v1/messages`,
        api_key: "sk-ant-bench-emulator-key",
        models: ["emulated-claude"],
        transformer: { use: ["Anthropic"] },
      },
    ],
    Router: { default: "emulator,emulated-claude" },
  };
  mkdirSync(join(home, ".claude-code-router"), { recursive: true });
  writeFileSync(join(home, ".claude-code-router", "config.json"), JSON.stringify(config, null, 2));
  const cli = join(PEER_FOLDER, "node_modules", PEER_PACKAGE, "dist", "cli.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing after the install`);
  // `ccr start` runs the server in this process (it does not daemonize), so the pid is the server's.
  const child = spawn(process.execPath, [cli, "start"], {
    cwd: home,
    env: { ...process.env, HOME: home, USERPROFILE: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitForListening(child, port, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    label: `${PEER_PACKAGE}@${PEER_VERSION}`,
    origin: `http://127.0.0.1:${port}`,
    apiKey: PEER_KEY,
    pid: child.pid!,
    stop,
  };
}
