// The OpenAI Chat Completions dialect of a passthrough attempt: /chat/completions under the base URL (as the openai
// SDK calls it), the client's body with the target's model, without the router's `provider` field, and with
// stream_options.include_usage so the answer's usage is known; the usage record the client did not ask for is
// dropped from what it receives. Each chunk is parsed: its content is kept (the usage fallback counts characters
// when an upstream reports no usage) and `model` is renamed to the name the client asked for. A streaming client's
// text, refusal and tool-call arguments are scrubbed of the credentials the router knows piece by piece, as one text
// each (StreamedPieces): a key an upstream echoed split across two chunks is found too.
import type { AssistantMessage, StopReason, ToolCall } from "@mariozechner/pi-ai";
import { TextScrub } from "../state/secret-scan.ts";
import { rememberedCredentialValues } from "../state/remembered-credentials.ts";
import { errorBody } from "./errors.ts";
import { OpenAIAssembler } from "./passthrough-assemble.ts";
import {
  eventJson,
  ROUTER_FIELDS_OUT,
  openAITokens,
  parseBlock,
  safeJson,
  ScannerBase,
  type PassthroughDialect,
  type ScanStep,
} from "./passthrough-scan.ts";
import { ownRecord } from "../own-record.ts";
import { IndexedParts } from "./indexed-parts.ts";

const STOP_REASONS: Record<string, StopReason> = ownRecord({
  stop: "stop",
  length: "length",
  tool_calls: "toolUse",
  function_call: "toolUse",
});

type Loose = Record<string, unknown>;

/**
 * The text pieces of a streamed answer (its content, its refusal, each tool call's arguments), each scrubbed as one
 * text: what could begin a credential waits for the piece's next chunk, and goes out with the answer's last chunk.
 */
class StreamedPieces {
  private readonly scrubs = new Map<string, TextScrub>();

  constructor(private readonly secrets: readonly string[]) {}

  /** The piece's next text as it may go out now. */
  take(piece: string, text: string): string {
    let scrub = this.scrubs.get(piece);
    if (!scrub) this.scrubs.set(piece, (scrub = new TextScrub(this.secrets)));
    return scrub.take(text);
  }

  /** What still waits, by piece (none when nothing does). */
  held(): Map<string, string> | undefined {
    let held: Map<string, string> | undefined;
    for (const [piece, scrub] of this.scrubs) {
      const text = scrub.end();
      if (text !== "") (held ??= new Map()).set(piece, text);
    }
    return held;
  }
}

/** `delta` with each text piece as `pieces` lets it go out, and what waited added at the end (the same when unchanged). */
function scrubbedDelta(delta: Loose, pieces: StreamedPieces, last: boolean): Loose {
  let out: Loose | undefined;
  const edit = (key: string, text: string) => {
    if (text !== delta[key]) (out ??= { ...delta })[key] = text;
  };
  if (typeof delta.content === "string") edit("content", pieces.take("content", delta.content));
  if (typeof delta.refusal === "string") edit("refusal", pieces.take("refusal", delta.refusal));
  let calls = Array.isArray(delta.tool_calls) ? (delta.tool_calls as Loose[]) : undefined;
  calls = calls?.map((call, position) => {
    const fn = call?.function as Loose | undefined;
    if (typeof fn?.arguments !== "string") return call;
    const text = pieces.take(`call:${typeof call.index === "number" ? call.index : position}`, fn.arguments);
    return text === fn.arguments ? call : { ...call, function: { ...fn, arguments: text } };
  });
  if (calls?.some((call, position) => call !== (delta.tool_calls as Loose[])[position]))
    (out ??= { ...delta }).tool_calls = calls;
  if (!last) return out ?? delta;
  for (const [piece, text] of pieces.held() ?? []) {
    out ??= { ...delta };
    if (!piece.startsWith("call:")) out[piece] = `${typeof out[piece] === "string" ? out[piece] : ""}${text}`;
    else
      out.tool_calls = [
        ...((out.tool_calls as Loose[] | undefined) ?? []),
        { index: Number(piece.slice(5)), function: { arguments: text } },
      ];
  }
  return out ?? delta;
}

class OpenAIScanner extends ScannerBase {
  private text = "";
  private readonly calls = new IndexedParts<{ id: string; name: string; args: string }>();
  private finished = false;
  /** The model field as the upstream writes it (learnt from its first chunk: it may name a dated version). */
  private upstreamModel: string | undefined;
  private readonly renamedModel: string;
  /**
   * The credentials a streaming client's text pieces are scrubbed of, and the pieces of each choice (by its index: a
   * request for several choices streams each in chunks of its own). None when the router knows no credential, or the
   * answer is whole.
   */
  private readonly secrets: readonly string[] | undefined;
  private readonly pieces = new Map<number, StreamedPieces>();

  constructor(
    private readonly clientWantsUsage: boolean,
    private readonly clientModel: string,
    private readonly assembler: OpenAIAssembler | undefined,
  ) {
    super();
    this.renamedModel = `"model":${JSON.stringify(clientModel)}`;
    // A whole answer is assembled from the chunks and scrubbed whole (passthrough-reply.ts).
    const secrets = rememberedCredentialValues();
    this.secrets = assembler || secrets.length === 0 ? undefined : secrets;
  }

  /** The last chunk read, whose fields a chunk of what still waits copies (the stream ended with no finish reason). */
  private lastChunk: Loose | undefined;

  /** What still waits of the text pieces, as one more chunk (none when nothing waits). */
  private heldChunk(): string {
    if (!this.lastChunk) return "";
    const choices: Loose[] = [];
    for (const [index, pieces] of this.pieces) {
      const delta = scrubbedDelta({}, pieces, true);
      if (Object.keys(delta).length > 0) choices.push({ index, delta, finish_reason: null });
    }
    if (choices.length === 0) return "";
    const { usage: _usage, ...chunk } = this.lastChunk;
    return this.renamed(`data: ${JSON.stringify({ ...chunk, choices })}`);
  }

  private renamed(block: string): string {
    return `${this.upstreamModel ? block.replaceAll(this.upstreamModel, this.renamedModel) : block}\n\n`;
  }

  /** The chunk as it goes out: the model renamed, and each choice's text pieces scrubbed. */
  private outgoing(block: string, chunk: Loose, choices: Loose[] | undefined): string {
    const secrets = this.secrets;
    if (!secrets || !Array.isArray(choices) || choices.length === 0) return this.renamed(block);
    let changed = false;
    const scrubbed = choices.map((choice) => {
      const delta = choice?.delta as Loose | undefined;
      if (!delta || typeof delta !== "object") return choice;
      const index = typeof choice.index === "number" ? choice.index : 0;
      let pieces = this.pieces.get(index);
      if (!pieces) this.pieces.set(index, (pieces = new StreamedPieces(secrets)));
      const out = scrubbedDelta(delta, pieces, typeof choice.finish_reason === "string");
      if (out === delta) return choice;
      changed = true;
      return { ...choice, delta: out };
    });
    return this.renamed(changed ? `data: ${JSON.stringify({ ...chunk, choices: scrubbed })}` : block);
  }

  override get content(): AssistantMessage["content"] {
    return [
      ...(this.text ? [{ type: "text" as const, text: this.text }] : []),
      ...this.calls.inOrder().map((call) => ({
        type: "toolCall" as const,
        id: call.id,
        name: call.name,
        // A parsed JSON object (pi's newer types say JsonObject; safeJson only returns what JSON.parse made).
        arguments: (safeJson(call.args) ?? {}) as ToolCall["arguments"],
      })),
    ];
  }

  block(block: string): ScanStep {
    const { data } = parseBlock(block);
    if (data === "[DONE]") return { text: `${this.heldChunk()}${block}\n\n`, end: "done" };
    const chunk = eventJson(data);
    if (!chunk) return { text: `${block}\n\n` };
    if (this.secrets) this.lastChunk = chunk;
    this.answerId(chunk.id);
    if (this.upstreamModel === undefined && typeof chunk.model === "string")
      this.upstreamModel = `"model":${JSON.stringify(chunk.model)}`;
    const choices = chunk.choices as Loose[] | undefined;
    const text = this.outgoing(block, chunk, choices);
    if (chunk.error) return { text, end: "error", errorText: data };
    this.assembler?.add(chunk);
    if (chunk.usage) openAITokens(this.tokens, chunk.usage as Loose);
    if (!choices?.length) return chunk.usage && !this.clientWantsUsage ? { text: "" } : { text };
    const choice = choices[0]!;
    if (typeof choice.finish_reason === "string") {
      this.finished = true;
      this.stopReason = STOP_REASONS[choice.finish_reason] ?? "stop";
      if (choice.finish_reason === "content_filter") this.refusal = "finish_reason content_filter";
    }
    const delta = choice.delta as Loose | undefined;
    if (!delta) return { text };
    let substantive = false;
    if (typeof delta.content === "string" && delta.content !== "") {
      this.text += delta.content;
      substantive = true;
    }
    // A refusal (`delta.refusal`, content null) is the target's answer as much as text is: it commits, and goes to the
    // client as it came (the history keeps a refusal as its text, as the request side reads one).
    if (typeof delta.refusal === "string" && delta.refusal !== "") {
      this.text += delta.refusal;
      substantive = true;
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as Loose[]) {
        if (!call || typeof call !== "object") continue;
        const index = typeof call.index === "number" ? call.index : this.calls.next();
        const fn = call.function as Loose | undefined;
        const entry = this.calls.at(index, () => ({ id: "", name: "", args: "" }));
        if (typeof call.id === "string") entry.id = call.id;
        if (typeof fn?.name === "string") entry.name += fn.name;
        if (typeof fn?.arguments === "string") entry.args += fn.arguments;
        substantive = true;
      }
    }
    // The deprecated functions API's call (a request with `functions`): an answer as much as a tool call is.
    const legacy = delta.function_call as Loose | undefined;
    if (legacy && typeof legacy === "object") {
      const entry = this.calls.at(0, () => ({ id: "", name: "", args: "" }));
      if (typeof legacy.name === "string") entry.name += legacy.name;
      if (typeof legacy.arguments === "string") entry.args += legacy.arguments;
      substantive = true;
    }
    const thinking = delta.reasoning_content ?? delta.reasoning;
    return {
      text,
      substantive,
      thinkingChars: typeof thinking === "string" ? thinking.length : undefined,
    };
  }

  override completeAtEnd(): boolean {
    return this.finished;
  }

  body(): string {
    return this.assembler!.body(this.clientModel);
  }

  errorBlock(message: string): string {
    return `${this.heldChunk()}data: ${JSON.stringify(errorBody("openai", "api_error", message))}\n\ndata: [DONE]\n\n`;
  }
}

/** pi-ai's compat flags that only say which request features a provider lacks: checked against the body. */
const FEATURE_FLAGS = new Set([
  "supportsStore",
  "supportsDeveloperRole",
  "supportsReasoningEffort",
  "supportsUsageInStreaming",
  "maxTokensField",
  "supportsStrictMode",
  "supportsLongCacheRetention",
  "sendSessionAffinityHeaders",
]);

/**
 * A target's compat flags against the client's body: a provider that lacks a feature the body does not use takes it
 * as it is; any flag that makes pi-ai reshape requests (thinking formats, routing blocks, tool-result rules) or a
 * provider without streamed usage sends the request through the translating path instead.
 */
export function bodyFitsCompat(compat: Loose | undefined, body: Loose): boolean {
  if (!compat) return true;
  if (Object.keys(compat).some((flag) => !FEATURE_FLAGS.has(flag))) return false;
  if (compat.supportsUsageInStreaming === false) return false;
  if (compat.supportsStore === false && body.store !== undefined) return false;
  if (compat.supportsReasoningEffort === false && body.reasoning_effort !== undefined) return false;
  if (compat.maxTokensField === "max_tokens" && body.max_completion_tokens !== undefined) return false;
  if (compat.maxTokensField === "max_completion_tokens" && body.max_tokens !== undefined) return false;
  const messages = Array.isArray(body.messages) ? (body.messages as Loose[]) : [];
  if (compat.supportsDeveloperRole === false && messages.some((message) => message?.role === "developer")) return false;
  const tools = Array.isArray(body.tools) ? (body.tools as Loose[]) : [];
  const strict = tools.some((tool) => (tool?.function as Loose | undefined)?.strict !== undefined);
  return !(compat.supportsStrictMode === false && strict);
}

export const OPENAI_CHAT_PASSTHROUGH: PassthroughDialect = {
  api: "openai-completions",
  conversation: "messages",
  protocol: "openai",
  path: () => "/chat/completions",
  // The usage record is always asked for (the ledger needs it); the scanner drops it if the client did not ask.
  edits: (client) => ({
    ...ROUTER_FIELDS_OUT(),
    set: { stream_options: { ...(client.stream_options as Loose | undefined), include_usage: true } },
  }),
  scanner: (client, clientModel, assemble) =>
    new OpenAIScanner(
      (client.stream_options as Loose | undefined)?.include_usage === true,
      clientModel,
      assemble ? new OpenAIAssembler() : undefined,
    ),
  fits: (target, client) => bodyFitsCompat((target as { compat?: Loose }).compat, client),
};
