// OpenRouter in front of the OpenAI chat emulator: POST /api/v1/chat/completions streams like the OpenAI emulator
// (chunk ids are the generation ids), and GET /api/v1/generation?id=... answers with the upstream that "served" it,
// the way openrouter.ai files a generation's stats: 404 until filed, then {data: {id, provider_name, ...}}.
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { startOpenAIEmulator, type Emulator } from "./openai-emulator.ts";

export interface GenerationLookup {
  id: string;
  authorization: string | undefined;
}

export interface OpenRouterEmulator {
  /** The chat side: replies, recorded calls (their bodies carry the `provider` block). */
  chat: Emulator;
  /** baseUrl for models.json: http://127.0.0.1:PORT/api/v1 */
  url: string;
  lookups: GenerationLookup[];
  /** The upstream name every generation reports from now on. */
  setUpstream(name: string): void;
  /** Answer this many lookups with 404 first (stats not filed yet). */
  notFiledFor(lookups: number): void;
  close(): Promise<void>;
}

export async function startOpenRouterEmulator(): Promise<OpenRouterEmulator> {
  const chat = await startOpenAIEmulator({ name: "openrouter", model: "openrouter-model" });
  const lookups: GenerationLookup[] = [];
  let upstream = "Anthropic";
  let notFiled = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/api/v1/generation") {
      const id = url.searchParams.get("id") ?? "";
      lookups.push({ id, authorization: req.headers.authorization });
      res.setHeader("content-type", "application/json");
      if (notFiled > 0) {
        notFiled -= 1;
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { message: `Generation ${id} not found`, code: 404 } }));
        return;
      }
      res.end(JSON.stringify({ data: { id, provider_name: upstream, model: "openrouter-model", total_cost: 0.0001 } }));
      return;
    }
    const forward = httpRequest(
      {
        host: "127.0.0.1",
        port: chat.port,
        method: req.method,
        path: (req.url ?? "/").replace(/^\/api\/v1/, "/v1"),
        headers: req.headers,
      },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    res.on("close", () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    chat,
    url: `http://127.0.0.1:${port}/api/v1`,
    lookups,
    setUpstream: (name) => {
      upstream = name;
    },
    notFiledFor: (count) => {
      notFiled = count;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await chat.close();
    },
  };
}
