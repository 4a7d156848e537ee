// The gateway load-and-faults suite's world: three upstream emulators behind one route and the clients that load
// it. flaky-a (Anthropic protocol) answers 429 with Retry-After, 529, 500, 503 or resets the connection; flaky-b
// (OpenAI protocol) stalls before the first token, drops the connection after some text, or answers an empty 200;
// steady (Anthropic) always answers. A fourth, calm, streams slowly for the disconnecting clients. Faults are drawn
// from the seed. The load clients are the official Anthropic and OpenAI SDKs (Messages, Chat Completions and
// Responses, so each target is met both as a passthrough of its own API and translated); each prompt carries a
// nonce the emulators put into their answer, so a lost, mixed-up or duplicated answer is visible.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { makeAgentDir } from "../test/helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../test/helpers/anthropic-emulator.ts";
import { startOpenAIEmulator } from "../test/helpers/openai-emulator.ts";
import type { Emulator, EmulatorReply, RecordedCall } from "../test/helpers/sse-emulator-core.ts";
import type { SeededRandom } from "./seeded-random.ts";

export type FaultName =
  | "ok"
  | "429+retry-after"
  | "529"
  | "500"
  | "503"
  | "reset"
  | "stall-before-first-token"
  | "drop-after-text"
  | "empty-stream-200"
  | "empty-body-200";

const FLAKY_A_WEIGHTS: Partial<Record<FaultName, number>> = {
  ok: 30,
  "429+retry-after": 20,
  "529": 15,
  "500": 10,
  "503": 10,
  reset: 15,
};
const FLAKY_B_WEIGHTS: Partial<Record<FaultName, number>> = {
  ok: 30,
  "stall-before-first-token": 15,
  "drop-after-text": 20,
  "empty-stream-200": 20,
  "empty-body-200": 15,
};
/** flaky-b's first-token timeout: how long a stall lasts before the router moves on. */
export const STALL_TIMEOUT_MS = 1_500;
/** Text chunks sent before a drop: the answer is committed by then, so the client gets its error event. */
const DROP_AFTER_CHUNKS = 2;
export const ROUTE = "faults";
export const CALM_ROUTE = "calm";
/** Per answer: the usage every emulator reports (a served answer's usage must reach the ledger exactly once). */
export const SERVED_USAGE = { input: 21, output: 9 };

export function nonceOf(call: RecordedCall): string {
  const messages = (call.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
  const last = messages.filter((message) => message.role === "user").at(-1);
  const text = typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "");
  return /nonce=(\S+?)[".]/.exec(`${text}.`)?.[1] ?? "none";
}

const CALM_CHUNKS = Array.from({ length: 20 }, (_, index) => `w${index} `);
const CALM_CHUNK_DELAY_MS = 20;
/** How long calm's answer takes to stream once the request arrived. */
export const CALM_STREAM_MS = CALM_CHUNKS.length * CALM_CHUNK_DELAY_MS;
/** What calm streams, slowly, to every request. */
export const CALM_TEXT = CALM_CHUNKS.join("");

/** The exact text a served answer to `nonce` must have, word by word as the emulators stream it. */
export const answerFor = (nonce: string) => `Answer for ${nonce} is ready now.`;

function reply(fault: FaultName, nonce: string): EmulatorReply {
  const text = answerFor(nonce);
  switch (fault) {
    case "ok":
      return { text, usage: { ...SERVED_USAGE } };
    case "429+retry-after":
      return { status: 429, retryAfterSeconds: 1 };
    case "529":
      return { status: 529 };
    case "500":
      return { status: 500 };
    case "503":
      return { status: 503 };
    case "reset":
      return { resetBeforeHeaders: true };
    case "stall-before-first-token":
      return { text, stallAfterChunks: 0 };
    case "drop-after-text":
      return { text, dropAfterChunks: DROP_AFTER_CHUNKS, usage: { ...SERVED_USAGE } };
    case "empty-stream-200":
      return { emptyStream: true, usage: null };
    case "empty-body-200":
      return { body: "" };
  }
}

export interface FaultWorld {
  flakyA: Emulator;
  flakyB: Emulator;
  steady: Emulator;
  calm: Emulator;
  /** Which fault each emulator call got, by emulator name. */
  faults: Map<string, FaultName[]>;
  /** The faults of the flaky targets' plans that no call has got yet. */
  faultsNotYetInjected(): FaultName[];
  agentDir: string;
  cleanup(): Promise<void>;
}

export async function startFaultWorld(random: SeededRandom): Promise<FaultWorld> {
  const [flakyA, flakyB, steady, calm] = await Promise.all([
    startAnthropicEmulator({ name: "flaky-a" }),
    startOpenAIEmulator({ name: "flaky-b" }),
    startAnthropicEmulator({ name: "steady" }),
    startAnthropicEmulator({ name: "calm" }),
  ]);
  const faults = new Map<string, FaultName[]>([
    ["flaky-a", []],
    ["flaky-b", []],
    ["steady", []],
    ["calm", []],
  ]);
  const plan = (name: string, weights: Partial<Record<FaultName, number>>) => (call: RecordedCall) => {
    const fault = random.weighted(weights as Record<FaultName, number>);
    faults.get(name)![call.index] = fault;
    return reply(fault, nonceOf(call));
  };
  flakyA.setDefault(plan("flaky-a", FLAKY_A_WEIGHTS));
  flakyB.setDefault(plan("flaky-b", FLAKY_B_WEIGHTS));
  steady.setDefault(plan("steady", { ok: 1 }));
  // Twenty slow chunks (~0.4 s): long enough that the disconnecting clients leave in the middle of most streams.
  calm.setDefault({ text: CALM_CHUNKS, chunkDelayMs: CALM_CHUNK_DELAY_MS, usage: { ...SERVED_USAGE } });

  const dir = makeAgentDir({
    providers: {
      "flaky-a": {
        baseUrl: flakyA.url,
        api: "anthropic-messages",
        apiKey: "sk-ant-flaky-a-key-00000001",
        models: [{ id: "model-a" }],
      },
      "flaky-b": {
        baseUrl: flakyB.url,
        api: "openai-completions",
        apiKey: "sk-flaky-b-key-000000000002",
        models: [{ id: "model-b" }],
      },
      steady: {
        baseUrl: steady.url,
        api: "anthropic-messages",
        apiKey: "sk-ant-steady-key-000000003",
        models: [{ id: "model-s" }],
      },
      calm: {
        baseUrl: calm.url,
        api: "anthropic-messages",
        apiKey: "sk-ant-calm-key-00000000004",
        models: [{ id: "model-c" }],
      },
    },
    routes: {
      routes: {
        [ROUTE]: {
          sortBy: "config",
          targets: [
            { provider: "flaky-a", modelId: "model-a" },
            { provider: "flaky-b", modelId: "model-b", timeouts: { firstTokenMs: STALL_TIMEOUT_MS } },
            { provider: "steady", modelId: "model-s" },
          ],
          failover: { maxAttempts: 3 },
        },
        [CALM_ROUTE]: { targets: [{ provider: "calm", modelId: "model-c" }] },
      },
      // No cooldowns of their own: the faulty targets keep being tried, so every request meets the faults.
      failover: {
        cooldownWaitMs: 0,
        kinds: {
          rate_limit: { cooldownMs: 0 },
          server: { cooldownMs: 0 },
          overloaded: { cooldownMs: 0 },
          network: { cooldownMs: 0 },
          timeout: { cooldownMs: 0 },
          empty_response: { cooldownMs: 0 },
        },
      },
      // The breaker stays on (its state is checked) but never opens here, for the same reason.
      breaker: { ratio: 1, minimumCalls: 1_000_000 },
      eventLog: { maxBytes: 1024 * 1024 * 1024 },
      gateway: { maxConcurrentRequests: 1024 },
    },
  });
  return {
    flakyA,
    flakyB,
    steady,
    calm,
    faults,
    faultsNotYetInjected: () =>
      (
        [
          ["flaky-a", FLAKY_A_WEIGHTS],
          ["flaky-b", FLAKY_B_WEIGHTS],
        ] as const
      ).flatMap(([name, weights]) =>
        (Object.keys(weights) as FaultName[]).filter((fault) => !faults.get(name)!.includes(fault)),
      ),
    agentDir: dir.agentDir,
    cleanup: async () => {
      await Promise.all([flakyA, flakyB, steady, calm].map((emulator) => emulator.close()));
      dir.cleanup();
    },
  };
}

export type ClientOutcome =
  | "success"
  | "left"
  | "wrong-text"
  | "error-event"
  | "http-error"
  | "no-terminal"
  | "hang"
  | "connection-error";

export type ClientProtocol = "anthropic" | "openai" | "responses";

export interface ClientResult {
  protocol: ClientProtocol;
  outcome: ClientOutcome;
  nonce: string;
  text: string;
  usage?: { input: number; output: number };
  detail?: string;
  /** When the client left (abortAfterMs), epoch ms. */
  leftAt?: number;
}

export interface StreamOptions {
  expected?: string;
  abortAfterMs?: number;
}

type StreamBody = (
  signal: AbortSignal,
  seen: { text: string },
) => Promise<{ terminal: boolean; usage?: ClientResult["usage"] }>;

/** One streamed request; never throws, says how the stream ended. The hang and leave timers are the same for both SDKs. */
async function streamOnce(
  protocol: ClientProtocol,
  nonce: string,
  hangMs: number,
  options: StreamOptions,
  body: StreamBody,
): Promise<ClientResult> {
  const { expected = answerFor(nonce), abortAfterMs } = options;
  const controller = new AbortController();
  const hang = setTimeout(() => controller.abort(new Error("hang")), hangMs);
  let leftAt: number | undefined;
  const leave =
    abortAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          leftAt = Date.now();
          controller.abort(new Error("client left"));
        }, abortAfterMs);
  const seen = { text: "" };
  const gone = (): ClientResult => ({
    protocol,
    outcome: controller.signal.reason?.message === "hang" ? "hang" : "left",
    nonce,
    text: seen.text,
    leftAt,
  });
  try {
    const { terminal, usage } = await body(controller.signal, seen);
    if (terminal)
      return { protocol, outcome: seen.text === expected ? "success" : "wrong-text", nonce, text: seen.text, usage };
    if (controller.signal.aborted) return gone();
    return { protocol, outcome: "no-terminal", nonce, text: seen.text };
  } catch (error) {
    if (controller.signal.aborted) return gone();
    if (error instanceof Anthropic.APIError || error instanceof OpenAI.APIError)
      return {
        protocol,
        outcome: error.status === undefined ? "error-event" : "http-error",
        nonce,
        text: seen.text,
        detail: `${error.status ?? "in-stream"}: ${error.message}`.slice(0, 300),
      };
    return { protocol, outcome: "connection-error", nonce, text: seen.text, detail: String(error).slice(0, 300) };
  } finally {
    clearTimeout(hang);
    clearTimeout(leave);
  }
}

const prompt = (nonce: string) => `Reply to nonce=${nonce}.`;

/** The official SDK clients pointed at the gateway. */
export interface SdkClients {
  anthropic: Anthropic;
  openai: OpenAI;
}

/** Each protocol's request and how its stream ends: Messages ends with message_stop. */
const STREAMS: Record<ClientProtocol, (clients: SdkClients, model: string, nonce: string) => StreamBody> = {
  anthropic: (clients, model, nonce) => async (signal, seen) => {
    let input = 0;
    let usage: ClientResult["usage"];
    const stream = await clients.anthropic.messages.create(
      { model, max_tokens: 64, stream: true, messages: [{ role: "user", content: prompt(nonce) }] },
      { signal },
    );
    for await (const event of stream) {
      if (event.type === "message_start") input = event.message.usage.input_tokens;
      else if (event.type === "content_block_delta" && event.delta.type === "text_delta") seen.text += event.delta.text;
      else if (event.type === "message_delta")
        usage = { input: event.usage.input_tokens ?? input, output: event.usage.output_tokens };
      else if (event.type === "message_stop") return { terminal: true, usage };
    }
    return { terminal: false };
  },
  // Chat Completions, usage asked for: complete when a choice finished and the stream then ended cleanly (an error
  // after the commit point makes the SDK throw instead).
  openai: (clients, model, nonce) => async (signal, seen) => {
    let finished = false;
    let usage: ClientResult["usage"];
    const stream = await clients.openai.chat.completions.create(
      {
        model,
        max_tokens: 64,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: prompt(nonce) }],
      },
      { signal },
    );
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      seen.text += choice?.delta?.content ?? "";
      if (choice?.finish_reason) finished = true;
      if (chunk.usage) usage = { input: chunk.usage.prompt_tokens, output: chunk.usage.completion_tokens };
    }
    return { terminal: finished && !signal.aborted, usage };
  },
  // Responses: response.completed ends it, response.failed is its error event.
  responses: (clients, model, nonce) => async (signal, seen) => {
    const stream = await clients.openai.responses.create(
      { model, max_output_tokens: 64, stream: true, input: prompt(nonce) },
      { signal },
    );
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") seen.text += event.delta;
      else if (event.type === "response.completed") {
        const usage = event.response.usage;
        return {
          terminal: true,
          usage: usage ? { input: usage.input_tokens, output: usage.output_tokens } : undefined,
        };
      } else if (event.type === "response.failed" || event.type === "error")
        throw new OpenAI.APIError(undefined, { message: `${event.type}` }, event.type, undefined);
    }
    return { terminal: false };
  },
};

/** One streamed request with the official SDK of `protocol`; never throws, says how the stream ended. */
export function streamWith(
  protocol: ClientProtocol,
  clients: SdkClients,
  model: string,
  nonce: string,
  hangMs: number,
  options: StreamOptions = {},
): Promise<ClientResult> {
  return streamOnce(protocol, nonce, hangMs, options, STREAMS[protocol](clients, model, nonce));
}
