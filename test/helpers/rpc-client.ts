// Drives `pi --mode rpc`: JSON commands on stdin, JSON lines (responses, agent events, extension UI requests)
// on stdout. Records are split on "\n" only; node:readline would also split on U+2028/U+2029 inside strings.
import { spawn } from "node:child_process";
import { basePiArgs, piCommand, piEnvironment, type PiProcessOptions } from "./pi-cli.ts";

export const DEFAULT_RPC_TIMEOUT_MS = 30_000;
const CLOSE_GRACE_MS = 5_000;

export interface RpcClient {
  send(command: object): void;
  /** Sends the command with a fresh id and resolves with its {type:"response", id} line. */
  request(command: object, timeoutMs?: number): Promise<any>;
  /**
   * Resolves with the first line matching the predicate that arrived after the most recent send/request
   * (so waiting for a second "agent_end" does not return the first). `sinceIndex` overrides that start.
   */
  waitFor(predicate: (line: any) => boolean, timeoutMs?: number, options?: { sinceIndex?: number }): Promise<any>;
  lines: any[];
  uiRequests(): any[];
  readonly stderr: string;
  close(): Promise<{ code: number | null }>;
}

interface Waiter {
  predicate: (line: any) => boolean;
  resolve: (line: any) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export async function startRpc(options: PiProcessOptions & { args?: string[] }): Promise<RpcClient> {
  const { node, cli, nodeFlags } = piCommand();
  const child = spawn(
    node,
    [...nodeFlags, cli, ...basePiArgs(options.extension, options.sessionDir), "--mode", "rpc", ...(options.args ?? [])],
    {
      cwd: options.cwd ?? options.agentDir,
      env: piEnvironment(options.agentDir, options.env),
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const lines: any[] = [];
  const waiters = new Set<Waiter>();
  let stderr = "";
  let pending = "";
  let lastSendIndex = 0;
  let nextId = 1;
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

  const deliver = (line: any) => {
    lines.push(line);
    for (const waiter of waiters) {
      if (!waiter.predicate(line)) continue;
      waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(line);
    }
  };
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    pending += text;
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      const record = pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
      if (record.trim() !== "") {
        try {
          deliver(JSON.parse(record));
        } catch {
          deliver({ type: "unparsed_line", text: record });
        }
      }
      newline = pending.indexOf("\n");
    }
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  child.stdin.on("error", () => {}); // pi may exit first; the waiters report that instead
  void exited.then((code) => {
    exitCode = code;
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`pi --mode rpc exited with code ${code} while waiting; stderr:\n${stderr}`));
    }
    waiters.clear();
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });

  const waitFor: RpcClient["waitFor"] = (predicate, timeoutMs = DEFAULT_RPC_TIMEOUT_MS, waitOptions = {}) => {
    const earlier = lines.slice(waitOptions.sinceIndex ?? lastSendIndex).find(predicate);
    if (earlier !== undefined) return Promise.resolve(earlier);
    if (exitCode !== undefined)
      return Promise.reject(new Error(`pi --mode rpc already exited with code ${exitCode}; stderr:\n${stderr}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          const seen = lines
            .slice(-5)
            .map((line) => JSON.stringify(line).slice(0, 200))
            .join("\n");
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for an RPC line; last lines:\n${seen}\nstderr:\n${stderr}`,
            ),
          );
        }, timeoutMs),
      };
      waiters.add(waiter);
    });
  };

  const send = (command: object) => {
    lastSendIndex = lines.length;
    child.stdin.write(`${JSON.stringify(command)}\n`);
  };

  return {
    lines,
    send,
    waitFor,
    request: (command, timeoutMs) => {
      const id = `request-${nextId++}`;
      send({ ...command, id });
      return waitFor((line) => line?.type === "response" && line.id === id, timeoutMs);
    },
    uiRequests: () => lines.filter((line) => line?.type === "extension_ui_request"),
    get stderr() {
      return stderr;
    },
    close: async () => {
      if (exitCode === undefined) {
        child.stdin.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), CLOSE_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      return { code: await exited };
    },
  };
}

/** Sends one prompt to every client in the same instant and waits until each has answered (its agent_end). */
export async function promptAtOnce(clients: RpcClient[], message: string, timeoutMs = 60_000): Promise<void> {
  await Promise.all(
    clients.map(async (rpc) => {
      await rpc.request({ type: "prompt", message });
      await rpc.waitFor((line) => line.type === "agent_end", timeoutMs);
    }),
  );
}
