// OpenAI Responses streaming emulator: POST /v1/responses with stream:true, answered with the named SSE events of
// api.openai.com (response.created, output items with their content parts and deltas, function calls with argument
// deltas, a custom (freeform) tool's call with its input deltas, a reasoning item with its summary and
// encrypted_content, response.completed with usage; response.incomplete on a length stop) or with an OpenAI-shaped
// error body.
// The openai SDK appends /responses to the base URL, so the base URL ends in /v1.
import { errorBody } from "./openai-emulator.ts";
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

function frames(reply: EmulatorReply, call: RecordedCall, model: string): SseFrame[] {
  const result: SseFrame[] = [];
  let sequence = 0;
  const push = (event: string, payload: Record<string, unknown>, content = false) =>
    result.push({ text: sseEvent(event, { type: event, sequence_number: sequence++, ...payload }), content });
  const id = `resp_emu_${call.index + 1}`;
  const output: Record<string, unknown>[] = [];
  const response = (status: string, usage: unknown = null) => ({
    id,
    object: "response",
    created_at: Math.floor(call.receivedAt / 1000),
    status,
    model,
    output: status === "in_progress" ? [] : output,
    usage,
  });
  push("response.created", { response: response("in_progress") });
  push("response.in_progress", { response: response("in_progress") });
  if ((reply.thinking !== undefined || reply.reasoningItem) && !reply.emptyStream) {
    const index = output.length;
    const id = reply.reasoningItem?.id ?? `rs_emu_${call.index + 1}`;
    push("response.output_item.added", { output_index: index, item: { id, type: "reasoning", summary: [] } });
    const chunks = splitIntoChunks(reply.thinking);
    const summary = chunks.length > 0 ? [{ type: "summary_text", text: chunks.join("") }] : [];
    for (const part of summary) {
      const at = { item_id: id, output_index: index, summary_index: 0 };
      push("response.reasoning_summary_part.added", { ...at, part: { type: "summary_text", text: "" } });
      for (const delta of chunks) push("response.reasoning_summary_text.delta", { ...at, delta }, true);
      push("response.reasoning_summary_text.done", { ...at, text: part.text });
      push("response.reasoning_summary_part.done", { ...at, part });
    }
    const encrypted = reply.reasoningItem?.encryptedContent;
    output.push({
      id,
      type: "reasoning",
      summary,
      ...(encrypted === undefined ? {} : { encrypted_content: encrypted }),
    });
    push("response.output_item.done", { output_index: index, item: output[index] });
  }
  const texts = reply.emptyStream ? [] : splitIntoChunks(reply.text);
  if (texts.length > 0) {
    const index = output.length;
    const item = {
      id: `msg_emu_${call.index + 1}`,
      type: "message",
      status: "in_progress",
      role: "assistant",
      content: [],
    };
    push("response.output_item.added", { output_index: index, item });
    const part = { type: "output_text", text: "", annotations: [] };
    push("response.content_part.added", { item_id: item.id, output_index: index, content_index: 0, part });
    for (const delta of texts)
      push("response.output_text.delta", { item_id: item.id, output_index: index, content_index: 0, delta }, true);
    const text = texts.join("");
    push("response.output_text.done", { item_id: item.id, output_index: index, content_index: 0, text });
    const done = { ...part, text };
    push("response.content_part.done", { item_id: item.id, output_index: index, content_index: 0, part: done });
    output.push({ ...item, status: "completed", content: [done] });
    push("response.output_item.done", { output_index: index, item: output[index] });
  }
  const refusals = reply.emptyStream ? [] : splitIntoChunks(reply.refusal);
  if (refusals.length > 0) {
    // As api.openai.com streams a refusal: a message item whose content part is a `refusal`, with its own deltas.
    const index = output.length;
    const item = {
      id: `msg_emu_refusal_${call.index + 1}`,
      type: "message",
      status: "in_progress",
      role: "assistant",
      content: [],
    };
    const at = { item_id: item.id, output_index: index, content_index: 0 };
    push("response.output_item.added", { output_index: index, item });
    push("response.content_part.added", { ...at, part: { type: "refusal", refusal: "" } });
    for (const delta of refusals) push("response.refusal.delta", { ...at, delta }, true);
    const refusal = refusals.join("");
    push("response.refusal.done", { ...at, refusal });
    const done = { type: "refusal", refusal };
    push("response.content_part.done", { ...at, part: done });
    output.push({ ...item, status: "completed", content: [done] });
    push("response.output_item.done", { output_index: index, item: output[index] });
  }
  if (reply.toolCall && !reply.emptyStream) {
    const index = output.length;
    const args = JSON.stringify(reply.toolCall.arguments);
    const callId = reply.toolCall.id ?? `call_emu_${call.index + 1}`;
    const item = {
      id: `fc_emu_${call.index + 1}`,
      type: "function_call",
      status: "in_progress",
      call_id: callId,
      name: reply.toolCall.name,
      arguments: "",
    };
    push("response.output_item.added", { output_index: index, item }, true);
    for (const delta of splitInHalves(args))
      push("response.function_call_arguments.delta", { item_id: item.id, output_index: index, delta }, true);
    push("response.function_call_arguments.done", { item_id: item.id, output_index: index, arguments: args });
    output.push({ ...item, status: "completed", arguments: args });
    push("response.output_item.done", { output_index: index, item: output[index] });
  }
  if (reply.customToolCall && !reply.emptyStream) {
    const index = output.length;
    const { input, name } = reply.customToolCall;
    const item = {
      id: `ctc_emu_${call.index + 1}`,
      type: "custom_tool_call",
      call_id: reply.customToolCall.id ?? `call_emu_${call.index + 1}`,
      name,
      input: "",
    };
    const at = { item_id: item.id, output_index: index };
    push("response.output_item.added", { output_index: index, item }, true);
    for (const delta of splitInHalves(input)) push("response.custom_tool_call_input.delta", { ...at, delta }, true);
    push("response.custom_tool_call_input.done", { ...at, input });
    output.push({ ...item, input });
    push("response.output_item.done", { output_index: index, item: output[index] });
  }
  const usage = reply.usage ?? { input: 0, output: 0 };
  const cached = usage.cacheRead ?? 0;
  const totals = {
    input_tokens: usage.input + cached,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input + cached + usage.output,
  };
  // As api.openai.com ends a response cut at its output limit ("length") or stopped by its content filter.
  const incomplete =
    reply.finishReason === "length"
      ? "max_output_tokens"
      : reply.finishReason === "content_filter"
        ? "content_filter"
        : undefined;
  push(incomplete ? "response.incomplete" : "response.completed", {
    response: {
      ...response(incomplete ? "incomplete" : "completed", totals),
      ...(incomplete ? { incomplete_details: { reason: incomplete } } : {}),
    },
  });
  return result;
}

/**
 * An OpenAI account's check of the reasoning items it is sent back: it decrypts only the encrypted content it issued
 * itself, and refuses the whole request otherwise, as api.openai.com does for items made under another organisation.
 */
function accountCheck(issued: Set<string>) {
  return (call: RecordedCall): EmulatorReply | undefined => {
    const input: unknown = call.body?.input;
    if (!Array.isArray(input)) return undefined;
    const foreign = input.find(
      (item) =>
        item?.type === "reasoning" && typeof item.encrypted_content === "string" && !issued.has(item.encrypted_content),
    );
    if (!foreign) return undefined;
    const content: string = foreign.encrypted_content;
    return {
      status: 400,
      body: JSON.stringify({
        error: {
          message: `The encrypted content ${content.slice(0, 4)}...${content.slice(-4)} could not be verified.`,
          type: "invalid_request_error",
          param: null,
          code: "invalid_encrypted_content",
        },
      }),
    };
  };
}

const RESPONSES_DIALECT: EmulatorDialect = {
  path: "/v1/responses",
  baseUrl: (origin) => `${origin}/v1`,
  errorBody,
  frames,
  malformedBody: () => "event: response.created\ndata: {this is not json\n\nthis line is not SSE at all\n\n",
  streamErrorFrame: (error) =>
    sseEvent("error", {
      type: "error",
      ...(error.sequenceNumber === undefined ? {} : { sequence_number: error.sequenceNumber }),
      code: error.type,
      message: error.message,
      param: null,
    }),
};

export interface ResponsesEmulatorOptions {
  name?: string;
  model?: string;
  /**
   * One OpenAI account: reasoning items sent back with encrypted content it did not issue are refused with a 400
   * `invalid_encrypted_content`, before any queued reply is taken.
   */
  account?: boolean;
}

export function startResponsesEmulator(options: ResponsesEmulatorOptions = {}): Promise<Emulator> {
  const name = options.name ?? "responses-emulator";
  const model = options.model ?? "emulated-gpt-5";
  if (!options.account) return startEmulator(RESPONSES_DIALECT, name, model);
  const issued = new Set<string>();
  return startEmulator(
    {
      ...RESPONSES_DIALECT,
      frames: (reply, call, model) => {
        if (reply.reasoningItem?.encryptedContent) issued.add(reply.reasoningItem.encryptedContent);
        return frames(reply, call, model);
      },
      refusal: accountCheck(issued),
    },
    name,
    model,
  );
}
