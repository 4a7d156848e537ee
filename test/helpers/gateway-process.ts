// Runs `pi-auto-router serve` as a real process (the package's bin through plain node) on a free loopback port,
// with HOME and PI_CODING_AGENT_DIR in temp dirs, and stops it again. Output is captured for assertions.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./agent-dir.ts";
import { freshDir } from "./fresh-dir.ts";

export const GATEWAY_BIN = join(REPO_ROOT, "bin", "pi-auto-router.mjs");
export const TEST_TOKEN = "test-gateway-token-0123456789";

/** The gateway's bundle files in dist: gateway.mjs and its chunks (gateway-<content hash>.mjs). */
export const GATEWAY_BUNDLE_FILE = /^gateway(-[A-Z0-9]+)?\.mjs$/;

/**
 * The files the npm package ships for the gateway (package.json's files: the bin, dist/gateway*.mjs: the entry and
 * its chunks) in a fresh directory, and no node_modules: it runs on the pi it finds (PATH, AUTO_ROUTER_PI_DIR).
 */
export function installedGatewayPackage(): string {
  const packageDir = freshDir("pi-auto-router-installed");
  mkdirSync(join(packageDir, "bin"));
  mkdirSync(join(packageDir, "dist"));
  const bundles = readdirSync(join(REPO_ROOT, "dist")).filter((name) => GATEWAY_BUNDLE_FILE.test(name));
  for (const file of [
    "package.json",
    "bin/pi-auto-router.mjs",
    "bin/pi-host-resolve.mjs",
    ...bundles.map((name) => `dist/${name}`),
  ])
    copyFileSync(join(REPO_ROOT, file), join(packageDir, file));
  return packageDir;
}

export interface GatewayProcess {
  url: string;
  token: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export async function startGatewayProcess(options: {
  agentDir: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  nodeArgs?: string[];
  /** Another node binary (a newer pi line needs Node 22) and another copy of the bin (an installed package). */
  node?: string;
  bin?: string;
}): Promise<GatewayProcess> {
  const home = freshDir("pi-auto-router-gateway-home");
  const env: Record<string, string | undefined> = {
    ...process.env,
    HOME: home,
    PI_CODING_AGENT_DIR: options.agentDir,
    PI_OFFLINE: "1",
    AUTO_ROUTER_TOKEN: TEST_TOKEN,
    ...options.env,
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const child = spawn(
    options.node ?? process.execPath,
    [...(options.nodeArgs ?? []), options.bin ?? GATEWAY_BIN, "serve", "--port", "0", ...(options.args ?? [])],
    { env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      if (signal) stderr += `\n(killed by ${signal})`;
      rmSync(home, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        child.stdout!.off("data", check);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", check);
    exited.then((code) => reject(new Error(`gateway exited with ${code} before listening:\n${stderr}`)));
  });
  return {
    url,
    token: options.env && "AUTO_ROUTER_TOKEN" in options.env ? (options.env.AUTO_ROUTER_TOKEN ?? "") : TEST_TOKEN,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the bin to completion (for arguments it must refuse). */
export function runGatewayCommand(
  agentDir: string,
  args: string[],
  options: { node?: string; bin?: string; env?: Record<string, string | undefined> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = freshDir("pi-auto-router-gateway-home");
  const env: Record<string, string | undefined> = {
    ...process.env,
    HOME: home,
    PI_CODING_AGENT_DIR: agentDir,
    PI_OFFLINE: "1",
    ...options.env,
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return new Promise((resolve) => {
    const child = spawn(options.node ?? process.execPath, [options.bin ?? GATEWAY_BIN, ...args], {
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("exit", (code) => {
      rmSync(home, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}
