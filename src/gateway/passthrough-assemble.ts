// A non-streaming client's answer on the passthrough: the target is asked for a stream (so the first-token and stall
// timeouts and the commit point work as for a stream), and its events are put together into the body the same API
// returns without streaming. Only the target's own fields are used; nothing is translated.
import { isObject } from "../is-object.ts";
import { safeJson } from "./passthrough-scan.ts";
import { IndexedParts } from "./indexed-parts.ts";

type Loose = Record<string, unknown>;

const loose = (value: unknown): Loose | undefined => (isObject(value) ? value : undefined);

/** Anthropic Messages: message_start's message, each content block with its deltas, message_delta's stop and usage. */
export class AnthropicAssembler {
  private message: Loose = {};
  private readonly blocks = new IndexedParts<Loose>();
  private readonly json = new Map<number, string>();

  add(event: string | undefined, data: Loose | undefined): void {
    if (!data) return;
    const index = typeof data.index === "number" ? data.index : -1;
    if (event === "message_start") this.message = { ...loose(data.message) };
    else if (event === "content_block_start" && index >= 0) this.blocks.set(index, { ...loose(data.content_block) });
    else if (event === "content_block_delta" && index >= 0) this.delta(index, loose(data.delta) ?? {});
    else if (event === "content_block_stop" && index >= 0) {
      const json = this.json.get(index);
      const block = this.blocks.get(index);
      if (json !== undefined && block) block.input = safeJson(json || "{}") ?? {};
    } else if (event === "message_delta") {
      Object.assign(this.message, loose(data.delta));
      this.message.usage = { ...loose(this.message.usage), ...loose(data.usage) };
    }
  }

  private delta(index: number, delta: Loose): void {
    const block = this.blocks.at(index, () => ({}));
    if (delta.type === "text_delta") block.text = `${block.text ?? ""}${delta.text ?? ""}`;
    else if (delta.type === "thinking_delta") block.thinking = `${block.thinking ?? ""}${delta.thinking ?? ""}`;
    else if (delta.type === "signature_delta") block.signature = delta.signature;
    else if (delta.type === "input_json_delta")
      this.json.set(index, `${this.json.get(index) ?? ""}${delta.partial_json ?? ""}`);
    else if (delta.type === "citations_delta")
      block.citations = [...((block.citations as unknown[]) ?? []), delta.citation];
  }

  body(model: string): string {
    return JSON.stringify({ ...this.message, model, content: this.blocks.inOrder() });
  }
}

interface Choice {
  index: number;
  content?: string;
  refusal?: string;
  reasoning?: string;
  calls: IndexedParts<{ id?: string; type: string; function: { name: string; arguments: string } }>;
  /** The deprecated functions API's one call (a request with `functions`). */
  functionCall?: { name: string; arguments: string };
  /** Citations of a search model's answer (`url_citation`), in order. */
  annotations?: unknown[];
  /** `logprobs: true`: each chunk's token log probabilities, of the content and of a refusal, in order. */
  logprobs?: { content: unknown[] | null; refusal: unknown[] | null };
  finish?: unknown;
}

/**
 * OpenAI Chat Completions: the chunks' deltas per choice (text, refusal, reasoning, tool calls by index, a legacy
 * function call, a search answer's annotations), log probabilities, the usage record.
 */
export class OpenAIAssembler {
  private head: Loose = {};
  private usage: unknown;
  private readonly choices = new IndexedParts<Choice>();

  add(chunk: Loose): void {
    // The first chunk that names the completion: Azure's first one (its prompt_filter_results, `choices: []`) has
    // `id: ""` and `created: 0`; its fields are kept under those of the chunk after it.
    if (!this.head.id) {
      const { choices: _, usage: __, ...head } = chunk;
      this.head = { ...this.head, ...head };
    }
    if (chunk.usage) this.usage = chunk.usage;
    for (const raw of (chunk.choices as Loose[] | undefined) ?? []) {
      const index = typeof raw.index === "number" ? raw.index : 0;
      const choice = this.choices.at(index, () => ({ index, calls: new IndexedParts() }));
      const delta = loose(raw.delta) ?? {};
      if (typeof delta.content === "string") choice.content = (choice.content ?? "") + delta.content;
      if (typeof delta.refusal === "string") choice.refusal = (choice.refusal ?? "") + delta.refusal;
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === "string") choice.reasoning = (choice.reasoning ?? "") + reasoning;
      for (const call of (delta.tool_calls as Loose[] | undefined) ?? []) {
        const at = typeof call.index === "number" ? call.index : choice.calls.next();
        const fn = loose(call.function) ?? {};
        const entry = choice.calls.at(at, () => ({ type: "function", function: { name: "", arguments: "" } }));
        if (typeof call.id === "string") entry.id = call.id;
        if (typeof fn.name === "string") entry.function.name += fn.name;
        if (typeof fn.arguments === "string") entry.function.arguments += fn.arguments;
      }
      const fnCall = loose(delta.function_call);
      if (fnCall) {
        const into = (choice.functionCall ??= { name: "", arguments: "" });
        if (typeof fnCall.name === "string") into.name += fnCall.name;
        if (typeof fnCall.arguments === "string") into.arguments += fnCall.arguments;
      }
      if (Array.isArray(delta.annotations)) choice.annotations = [...(choice.annotations ?? []), ...delta.annotations];
      const logprobs = loose(raw.logprobs);
      if (logprobs) {
        const into = (choice.logprobs ??= { content: null, refusal: null });
        for (const key of ["content", "refusal"] as const) {
          const tokens = logprobs[key];
          if (Array.isArray(tokens)) into[key] = [...(into[key] ?? []), ...tokens];
        }
      }
      if (raw.finish_reason !== undefined && raw.finish_reason !== null) choice.finish = raw.finish_reason;
    }
  }

  body(model: string): string {
    return JSON.stringify({
      ...this.head,
      object: "chat.completion",
      model,
      choices: this.choices.inOrder().map((choice) => ({
        index: choice.index,
        message: {
          role: "assistant",
          content: choice.content ?? null,
          ...(choice.refusal !== undefined ? { refusal: choice.refusal } : {}),
          ...(choice.reasoning !== undefined ? { reasoning_content: choice.reasoning } : {}),
          ...(choice.calls.size ? { tool_calls: choice.calls.inOrder() } : {}),
          ...(choice.functionCall ? { function_call: choice.functionCall } : {}),
          ...(choice.annotations ? { annotations: choice.annotations } : {}),
        },
        finish_reason: choice.finish ?? null,
        logprobs: choice.logprobs ?? null,
      })),
      ...(this.usage ? { usage: this.usage } : {}),
    });
  }
}
