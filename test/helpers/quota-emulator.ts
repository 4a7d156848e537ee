// A small local emulator of the subscription usage APIs (Anthropic OAuth usage, Codex wham/usage, Gemini CLI
// retrieveUserQuota): every request is recorded, each path answers with the queued body or status.
import { createServer, type IncomingMessage } from "node:http";

export interface QuotaReply {
  status?: number;
  body?: unknown;
  delayMs?: number;
  /** Closes the connection of this many requests to the path without an answer (as a server closing an idle one). */
  resets?: number;
}
export interface QuotaCall {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface QuotaEmulator {
  url: string;
  calls: QuotaCall[];
  /** Sets the reply of a path (used for every request until replaced). */
  reply(path: string, reply: QuotaReply): void;
  close(): Promise<void>;
}

export async function startQuotaEmulator(): Promise<QuotaEmulator> {
  const replies = new Map<string, QuotaReply>();
  const calls: QuotaCall[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const path = (request.url ?? "/").split("?")[0]!;
      calls.push({ method: request.method ?? "GET", path, headers: request.headers, body });
      const reply = replies.get(path) ?? { status: 404, body: { error: "no reply queued" } };
      if (reply.resets) {
        reply.resets -= 1;
        request.socket.destroy();
        return;
      }
      setTimeout(() => {
        response.writeHead(reply.status ?? 200, { "content-type": "application/json" });
        response.end(JSON.stringify(reply.body ?? {}));
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    reply: (path, reply) => void replies.set(path, reply),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
