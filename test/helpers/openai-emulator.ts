// OpenAI chat-completions streaming emulator: POST /v1/chat/completions with stream:true, answered with
// chat.completion.chunk SSE records the way api.openai.com sends them, or with an OpenAI-shaped error body.
import {
  type Emulator,
  type EmulatorDialect,
  type EmulatorReply,
  type RecordedCall,
  type SseFrame,
  splitInHalves,
  splitIntoChunks,
  sseData,
  startEmulator,
} from "./sse-emulator-core.ts";

export type { Emulator, EmulatorReply, RecordedCall } from "./sse-emulator-core.ts";

interface OpenAIErrorDefaults {
  message: string;
  type: string;
  code: string | null;
}

// Messages and types modelled on what api.openai.com answers; the status decides the default.
const ERROR_DEFAULTS: Record<number, OpenAIErrorDefaults> = {
  400: { message: "Invalid request: messages must not be empty", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" },
  403: { message: "You are not allowed to access this model", type: "permission_error", code: null },
  404: {
    message: "The model does not exist or you do not have access to it",
    type: "invalid_request_error",
    code: "model_not_found",
  },
  429: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" },
  500: { message: "The server had an error while processing your request", type: "server_error", code: null },
  502: { message: "Bad gateway", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later", type: "server_error", code: null },
  529: { message: "Overloaded", type: "server_error", code: null },
};

/** An error body shaped as api.openai.com sends it (shared with the Responses emulator). */
export function errorBody(status: number, reply: EmulatorReply): string {
  const defaults = ERROR_DEFAULTS[status] ?? { message: `Error ${status}`, type: "api_error", code: null };
  return JSON.stringify({
    error: {
      message: reply.errorMessage ?? defaults.message,
      type: reply.errorType ?? defaults.type,
      param: null,
      code: reply.errorType ?? defaults.code,
    },
  });
}

function frames(reply: EmulatorReply, call: RecordedCall, model: string): SseFrame[] {
  const id = `chatcmpl-emu-${call.index + 1}`;
  const created = Math.floor(call.receivedAt / 1000);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    sseData({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, ...logprobsOf(delta), finish_reason: finishReason }],
    });
  // A request with `logprobs: true` gets each text piece's log probability in its chunk, as api.openai.com sends it.
  const logprobsOf = (delta: Record<string, unknown>) =>
    call.body?.logprobs === true && typeof delta.content === "string" && delta.content !== ""
      ? { logprobs: { content: [tokenLogprob(delta.content)], refusal: null } }
      : {};
  // A refusal's first chunk says so as api.openai.com's does: content null, an empty refusal.
  const first = reply.refusal === undefined ? { content: "" } : { content: null, refusal: "" };
  const result: SseFrame[] = [{ text: chunk({ role: "assistant", ...first }), content: false }];
  if (!reply.emptyStream) {
    for (const piece of splitIntoChunks(reply.refusal))
      result.push({ text: chunk({ content: null, refusal: piece }), content: true });
    for (const piece of splitIntoChunks(reply.thinking))
      result.push({ text: chunk({ reasoning_content: piece }), content: true });
    for (const piece of splitIntoChunks(reply.text)) result.push({ text: chunk({ content: piece }), content: true });
    // A search model (a request with `web_search_options`) cites its sources after the text, as api.openai.com does.
    if (call.body?.web_search_options && reply.text)
      result.push({
        text: chunk({ annotations: [urlCitation(splitIntoChunks(reply.text).join(""))] }),
        content: false,
      });
    if (reply.toolCall && Array.isArray(call.body?.functions)) {
      // A request with the deprecated `functions` gets the call as api.openai.com sends it then: `function_call`.
      result.push({ text: chunk({ function_call: { name: reply.toolCall.name, arguments: "" } }), content: true });
      for (const piece of splitInHalves(JSON.stringify(reply.toolCall.arguments)))
        result.push({ text: chunk({ function_call: { arguments: piece } }), content: true });
    } else if (reply.toolCall) {
      const toolCallId = reply.toolCall.id ?? `call_emu_${call.index + 1}`;
      const start = {
        index: 0,
        id: toolCallId,
        type: "function",
        function: { name: reply.toolCall.name, arguments: "" },
      };
      result.push({ text: chunk({ tool_calls: [start] }), content: true });
      for (const piece of splitInHalves(JSON.stringify(reply.toolCall.arguments))) {
        result.push({ text: chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }), content: true });
      }
    }
  }
  const called = Array.isArray(call.body?.functions) ? "function_call" : "tool_calls";
  const finishReason = reply.finishReason ?? (reply.toolCall && !reply.emptyStream ? called : "stop");
  result.push({ text: chunk({}, finishReason), content: false });
  if (reply.usage) {
    const cacheRead = reply.usage.cacheRead ?? 0;
    const cacheWrite = reply.usage.cacheWrite ?? 0;
    // pi-ai subtracts cached and cache-write tokens from prompt_tokens, so report them the way OpenAI does: included.
    const promptTokens = reply.usage.input + cacheRead + cacheWrite;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: reply.usage.output,
      total_tokens: promptTokens + reply.usage.output,
      prompt_tokens_details: {
        cached_tokens: cacheRead + cacheWrite,
        ...(cacheWrite > 0 ? { cache_write_tokens: cacheWrite } : {}),
      },
    };
    result.push({
      text: sseData({ id, object: "chat.completion.chunk", created, model, choices: [], usage }),
      content: false,
    });
  }
  result.push({ text: sseData("[DONE]"), content: false });
  return result;
}

/** The citation the emulator gives a search model's whole answer. */
export const urlCitation = (text: string) => ({
  type: "url_citation",
  url_citation: { start_index: 0, end_index: text.length, url: "https://example.com/source", title: "Source" },
});

/** A text piece as one token with a made-up log probability (its length, negated, in tenths). */
export const tokenLogprob = (token: string) => ({
  token,
  logprob: -token.length / 10,
  bytes: [...Buffer.from(token)],
  top_logprobs: [],
});

const OPENAI_DIALECT: EmulatorDialect = {
  path: "/v1/chat/completions",
  baseUrl: (origin) => `${origin}/v1`,
  errorBody,
  frames,
  malformedBody: () => "data: {this is not json\n\nthis line is not SSE at all\n\n",
  streamErrorFrame: (error) =>
    sseData({ error: { message: error.message, type: error.type, param: null, code: null } }),
};

export function startOpenAIEmulator(options: { name?: string; model?: string } = {}): Promise<Emulator> {
  return startEmulator(OPENAI_DIALECT, options.name ?? "openai-emulator", options.model ?? "emulated-gpt");
}
