// A stand-in for a provider's endpoints other than chat (the wildcard proxy's upstream): /v1/embeddings answers a
// small embedding and /v1/files a file object, unless a reply is queued; GET .../content is a slow download (unless
// a reply is queued),
// GET .../file-broken/content one that drops mid-way, and GET .../echo answers the request's headers.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Upstream {
  url: string;
  calls: Array<{ method: string; path: string; headers: IncomingMessage["headers"]; body: string }>;
  /** Slow downloads (GET .../content): how each one ended. */
  downloads: Array<{ ended: "open" | "complete" | "closed-by-client" }>;
  /**
   * Queued answers, in order; `headers` are added to (or override) the default ones (a list is sent as that many
   * headers: set-cookie); `hang` answers nothing; `split` sends the body in two writes, chunked, without a length;
   * `chunks` sends these strings as they are (an event stream, NDJSON), one write each, instead of the JSON body.
   */
  replies: Array<{
    status: number;
    body: unknown;
    headers?: Record<string, string | string[]>;
    hang?: boolean;
    /** Sends the status, headers and the first half of the body, then nothing more (until the client gives up). */
    stallBody?: boolean;
    /** Sends the status, headers and the first half of the body, then drops the connection. */
    dropBody?: boolean;
    split?: boolean;
    chunks?: string[];
    /** Sent as they are instead of the JSON body (a compressed body). */
    bytes?: Buffer;
  }>;
  close(): Promise<void>;
}

/** What an embeddings API answers; the openai client asks for base64 (float32 little-endian) by default. */
function embeddingReply(request: { model?: string; encoding_format?: string }) {
  const vector = [0.25, 0.5];
  const embedding =
    request.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
  return {
    object: "list",
    data: [{ object: "embedding", index: 0, embedding }],
    model: request.model,
    usage: { prompt_tokens: 2, total_tokens: 2 },
  };
}

/** A file download that trickles 100 chunks, 20 ms apart (2 s), and notes whether the client stayed to the end. */
function slowDownload(upstream: Upstream, response: import("node:http").ServerResponse): void {
  const download: Upstream["downloads"][number] = { ended: "open" };
  upstream.downloads.push(download);
  response.writeHead(200, { "content-type": "application/octet-stream" });
  let sent = 0;
  const timer = setInterval(() => {
    response.write(`chunk ${sent++}\n`);
    if (sent === 100) {
      clearInterval(timer);
      response.end();
    }
  }, 20);
  response.on("close", () => {
    clearInterval(timer);
    download.ended = response.writableEnded ? "complete" : "closed-by-client";
  });
}

/** Each chunk a write of its own, 10 ms apart, as a stream's events come; then the end. */
function writeInTurn(response: import("node:http").ServerResponse, chunks: readonly string[]): void {
  const [first, ...rest] = chunks;
  if (first === undefined) return void response.end();
  response.write(first);
  setTimeout(() => writeInTurn(response, rest), 10);
}

/** A stand-in for a provider's non-chat endpoints: answers queued replies (default 200 with a small embedding). */
export async function startUpstream(name: string): Promise<Upstream> {
  const upstream: Upstream = { url: "", calls: [], downloads: [], replies: [], close: async () => {} };
  const server: Server = createServer((request, response) => {
    if (request.method === "GET" && request.url?.endsWith("/file-broken/content")) {
      // Two chunks, then the connection drops mid-download.
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.write("chunk 0\n");
      setTimeout(() => response.write("chunk 1\n"), 20);
      setTimeout(() => response.destroy(), 60);
      return;
    }
    if (request.method === "GET" && request.url?.endsWith("/content") && upstream.replies.length === 0)
      return slowDownload(upstream, response);
    if (request.method === "GET" && request.url?.endsWith("/echo")) {
      // A debug endpoint echoing the request's headers, in two writes that split the text in the middle.
      const text = JSON.stringify({ headers: request.headers });
      const middle = text.indexOf("Bearer ") + 12;
      response.writeHead(200, { "content-type": "application/json" });
      response.write(text.slice(0, middle));
      setTimeout(() => response.end(text.slice(middle)), 20);
      return;
    }
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      upstream.calls.push({ method: request.method ?? "", path: request.url ?? "", headers: request.headers, body });
      const reply =
        upstream.replies.shift() ??
        (request.url?.startsWith("/v1/files")
          ? {
              status: 200,
              body: {
                id: "file-abc",
                object: "file",
                bytes: 3,
                created_at: 0,
                filename: `${name}.txt`,
                purpose: "assistants",
                status: "processed",
              },
            }
          : { status: 200, body: embeddingReply(JSON.parse(body || "{}")) });
      if ("hang" in reply && reply.hang) return; // until the client gives up
      response.writeHead(reply.status, {
        "content-type": "application/json",
        ...(reply.status === 429 ? { "retry-after": "30" } : {}),
        ...("headers" in reply ? reply.headers : {}),
      });
      if ("chunks" in reply && reply.chunks) return writeInTurn(response, reply.chunks);
      if ("bytes" in reply && reply.bytes) return void response.end(reply.bytes);
      const text = JSON.stringify(reply.body);
      if ("stallBody" in reply && reply.stallBody) return void response.write(text.slice(0, text.length >> 1));
      if ("dropBody" in reply && reply.dropBody) {
        response.write(text.slice(0, text.length >> 1));
        return void setTimeout(() => response.destroy(), 20);
      }
      if (!("split" in reply && reply.split)) return void response.end(text);
      response.write(text.slice(0, text.length >> 1));
      setTimeout(() => response.end(text.slice(text.length >> 1)), 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  upstream.close = () => new Promise((resolve) => server.close(() => resolve()));
  return upstream;
}
