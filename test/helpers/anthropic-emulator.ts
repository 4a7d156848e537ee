// Anthropic messages streaming emulator: POST /v1/messages, answered with the named SSE events of the real API
// (message_start, content_block_*, message_delta, message_stop) or with an Anthropic-shaped error body.
// The Anthropic SDK appends /v1/messages to the base URL, so the base URL is the bare origin.
import {
  type Emulator,
  type EmulatorDialect,
  type EmulatorReply,
  type RecordedCall,
  type SseFrame,
  splitInHalves,
  splitIntoChunks,
  sseEvent,
  startEmulator,
} from "./sse-emulator-core.ts";

export type { Emulator, EmulatorReply, RecordedCall } from "./sse-emulator-core.ts";

/** A reply with what only this dialect sends, besides the shared reply shape. */
export interface AnthropicReply extends EmulatorReply {
  /**
   * A thinking block whose text is not streamed, in place of `thinking`: as api.anthropic.com sends one for
   * `thinking.display: "omitted"` (the block starts with empty text, pings come while the model thinks, then its
   * signature), or a `redacted_thinking` block (its data whole in the start, then the pings). Give `text` too (`[]`
   * for none): the shared defaults, which do not know this field, would add a default answer.
   */
  omittedThinking?: { pings: number; redacted?: boolean };
}

// Error types and messages modelled on api.anthropic.com; the status decides the default.
const ERROR_DEFAULTS: Record<number, { type: string; message: string }> = {
  400: { type: "invalid_request_error", message: "messages: at least one message is required" },
  401: { type: "authentication_error", message: "invalid x-api-key" },
  403: { type: "permission_error", message: "Your API key does not have permission to use the specified resource." },
  404: { type: "not_found_error", message: "model: emulated-model-does-not-exist" },
  413: { type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes." },
  429: { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit" },
  500: { type: "api_error", message: "Internal server error" },
  502: { type: "api_error", message: "Bad gateway" },
  503: { type: "api_error", message: "Service unavailable" },
  529: { type: "overloaded_error", message: "Overloaded" },
};

function errorBody(status: number, reply: EmulatorReply): string {
  const defaults = ERROR_DEFAULTS[status] ?? { type: "api_error", message: `Error ${status}` };
  return JSON.stringify({
    type: "error",
    error: { type: reply.errorType ?? defaults.type, message: reply.errorMessage ?? defaults.message },
  });
}

function frames(reply: EmulatorReply, call: RecordedCall, model: string): SseFrame[] {
  // The real API always sends usage objects and pi-ai reads them unguarded, so "no usage" is reported as zeros.
  const usage = reply.usage ?? { input: 0, output: 0 };
  const result: SseFrame[] = [];
  const framing = (event: string, payload: unknown) => result.push({ text: sseEvent(event, payload), content: false });
  const content = (event: string, payload: unknown) => result.push({ text: sseEvent(event, payload), content: true });
  framing("message_start", {
    type: "message_start",
    message: {
      id: `msg_emu_${call.index + 1}`,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.input,
        // The real API's placeholder: the count arrives in message_delta at the end.
        output_tokens: 1,
        cache_read_input_tokens: usage.cacheRead ?? 0,
        cache_creation_input_tokens: usage.cacheWrite ?? 0,
      },
    },
  });
  framing("ping", { type: "ping" });
  let blockIndex = 0;
  const omitted = (reply as AnthropicReply).omittedThinking;
  if (omitted && !reply.emptyStream) {
    const index = blockIndex++;
    framing("content_block_start", {
      type: "content_block_start",
      index,
      content_block: omitted.redacted
        ? { type: "redacted_thinking", data: "emulated-redacted-thinking" }
        : { type: "thinking", thinking: "" },
    });
    for (let ping = 0; ping < omitted.pings; ping++) framing("ping", { type: "ping" });
    if (!omitted.redacted)
      framing("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "signature_delta", signature: "emulated-signature" },
      });
    framing("content_block_stop", { type: "content_block_stop", index });
  }
  const thinkingChunks = reply.emptyStream ? [] : splitIntoChunks(reply.thinking);
  if (thinkingChunks.length > 0) {
    const index = blockIndex++;
    framing("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "thinking", thinking: "" },
    });
    for (const piece of thinkingChunks) {
      content("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "thinking_delta", thinking: piece },
      });
    }
    framing("content_block_delta", {
      type: "content_block_delta",
      index,
      delta: { type: "signature_delta", signature: "emulated-signature" },
    });
    framing("content_block_stop", { type: "content_block_stop", index });
  }
  const textChunks = reply.emptyStream ? [] : splitIntoChunks(reply.text);
  if (textChunks.length > 0) {
    const index = blockIndex++;
    framing("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
    for (const piece of textChunks) {
      content("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "text_delta", text: piece },
      });
    }
    framing("content_block_stop", { type: "content_block_stop", index });
  }
  if (reply.toolCall && !reply.emptyStream) {
    const index = blockIndex++;
    const id = reply.toolCall.id ?? `toolu_emu_${call.index + 1}`;
    content("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id, name: reply.toolCall.name, input: {} },
    });
    for (const piece of splitInHalves(JSON.stringify(reply.toolCall.arguments))) {
      content("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: piece },
      });
    }
    framing("content_block_stop", { type: "content_block_stop", index });
  }
  const stopReason = reply.finishReason ?? (reply.toolCall && !reply.emptyStream ? "tool_use" : "end_turn");
  framing("message_delta", {
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output },
  });
  framing("message_stop", { type: "message_stop" });
  return result;
}

const ANTHROPIC_DIALECT: EmulatorDialect = {
  path: "/v1/messages",
  baseUrl: (origin) => origin,
  errorBody,
  frames,
  malformedBody: () => "event: message_start\ndata: {this is not json\n\nthis line is not SSE at all\n\n",
  streamErrorFrame: (error) =>
    sseEvent("error", { type: "error", error: { type: error.type, message: error.message } }),
};

export function startAnthropicEmulator(options: { name?: string; model?: string } = {}): Promise<Emulator> {
  return startEmulator(ANTHROPIC_DIALECT, options.name ?? "anthropic-emulator", options.model ?? "emulated-claude");
}
