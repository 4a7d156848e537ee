// A throw-away redis-server for team-mode tests: a free loopback port, a temp dir, no persistence. kill() and
// restart() (same port, empty: it saves nothing) drive the fault tests, pause() and resume() a Redis that hangs with its
// connections open (SIGSTOP / SIGCONT: a stuck server or a network partition); stop() removes everything.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import { freshDir } from "./fresh-dir.ts";

export interface RedisServer {
  port: number;
  url: string;
  /** Runs redis-cli against it and returns its output (for assertions on what the team store holds). */
  cli(...args: string[]): string;
  /**
   * Makes an ACL user of the keys and change channel under `prefix`, with `rules` (e.g. "+@all", "-@keyspace"), and
   * returns the server's URL logged in as it.
   */
  aclUser(name: string, password: string, prefix: string, ...rules: string[]): string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export function redisAvailable(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}

async function waitForPort(port: number, open: boolean): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (reachable === open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server on port ${port} did not ${open ? "start" : "stop"}`);
}

/** Whether openssl can make the certificate of a TLS Redis (startRedisServer's `tls`). */
export function opensslAvailable(): boolean {
  return spawnSync("openssl", ["version"]).status === 0;
}

/** A self-signed certificate for 127.0.0.1 in `dir`: the CA a client must be given to trust the server. */
function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, "redis-cert.pem");
  const key = join(dir, "redis-key.pem");
  const made = spawnSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
    ],
    { encoding: "utf8" },
  );
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
  return { cert, key };
}

/**
 * `tls`: the server takes only TLS (its port speaks nothing else), with a self-signed certificate (`caFile`); its
 * `url` is rediss://.
 */
export async function startRedisServer(
  options: { password?: string; tls?: boolean } = {},
): Promise<RedisServer & { caFile?: string }> {
  const port = await freePort();
  const dir = freshDir("auto-router-redis");
  const certificate = options.tls ? makeCertificate(dir) : undefined;
  let child: ChildProcess | undefined;
  // While "killed", the port is held by a server that drops every connection at once: clients see Redis as down,
  // and no other test's server (which asks the system for a free port) can take the port before the restart.
  let placeholder: Server | undefined;
  const releasePort = async () => {
    const held = placeholder;
    placeholder = undefined;
    if (held) await new Promise<void>((resolve) => held.close(() => resolve()));
  };
  const launch = async () => {
    await releasePort();
    const args = certificate
      ? [
          ...["--port", "0", "--tls-port", String(port), "--tls-auth-clients", "no"],
          ...["--tls-cert-file", certificate.cert, "--tls-key-file", certificate.key],
        ]
      : ["--port", String(port)];
    args.push("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir);
    if (options.password) args.push("--requirepass", options.password);
    const started = spawn("redis-server", args, { stdio: "ignore" });
    child = started;
    await waitForPort(port, true);
    if (started.exitCode !== null || started.signalCode !== null)
      throw new Error(`redis-server could not listen on port ${port}`);
  };
  const signal = (name: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error("redis-server is not running");
    child.kill(name);
  };
  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    await waitForPort(port, false);
    const holder = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      holder.once("error", reject);
      holder.listen(port, "127.0.0.1", () => resolve());
    });
    placeholder = holder;
  };
  await launch();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  const urlAs = (login: string) => `${certificate ? "rediss" : "redis"}://${login}127.0.0.1:${port}/0`;
  const cli = (...args: string[]): string => {
    const result = spawnSync(
      "redis-cli",
      [
        "-p",
        String(port),
        ...(certificate ? ["--tls", "--cacert", certificate.cert] : []),
        ...(options.password ? ["-a", options.password, "--no-auth-warning"] : []),
        ...args,
      ],
      { encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`redis-cli ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout.trim();
  };
  return {
    port,
    url: urlAs(auth),
    ...(certificate ? { caFile: certificate.cert } : {}),
    cli,
    aclUser: (name, password, prefix, ...rules) => {
      cli("ACL", "SETUSER", name, "on", `>${password}`, `~${prefix}*`, `&${prefix}changed`, ...rules);
      return urlAs(`${encodeURIComponent(name)}:${encodeURIComponent(password)}@`);
    },
    kill,
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      await releasePort();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
