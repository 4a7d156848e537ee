// What a proxied answer cost: the wildcard proxy forwards bytes it does not translate, but an answer that is one JSON
// document (an embeddings list, a rerank result, a whole chat answer) usually carries the provider's own usage record.
// The bytes forwarded are copied on the side, up to USAGE_READ_BYTES, and read once the answer has reached the client;
// what they say becomes the attempt's message, priced with the target model's prices as a chat answer is, so the
// runtime's one bookkeeping (ledger, `usage` and `result` events, the final's cost, budgets) counts it. Nothing here
// changes or delays what the client gets, and nothing it cannot read is guessed: no usage, nothing counted.
import type { Api, AssistantMessage, Model } from "@mariozechner/pi-ai";
import { isObject } from "../is-object.ts";
import { answerMessage, openAITokens, type TokenCounts, zeroTokens } from "./passthrough-scan.ts";

/**
 * The largest answer whose usage is read. The copy is held while the answer streams to the client, so this bounds the
 * memory one proxied request may hold beside it, and the parse (~10-20 ms of main thread at the bound). 4 MiB holds
 * any rerank answer and an OpenAI embeddings answer of about 500 inputs of 1,536 dimensions in the official clients'
 * base64 encoding (about 125 as JSON floats); a longer answer is forwarded as it is and its usage is not read.
 */
export const USAGE_READ_BYTES = 4 * 1024 * 1024;

/** JSON, and one document (not NDJSON lines, not an event stream): `application/json`, `application/<x>+json`. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * Whether this answer's usage may be read: a 2xx answer with a body, one JSON document by its content-type, not
 * declared longer than USAGE_READ_BYTES (a streamed or non-JSON answer is only forwarded).
 */
export function usageReadable(method: string, status: number, headers: Headers): boolean {
  if (method === "HEAD" || status < 200 || status >= 300 || status === 204) return false;
  if (!JSON_TYPE.test(headers.get("content-type") ?? "")) return false;
  const declared = headers.get("content-length");
  return declared === null || !/^\d+$/.test(declared.trim()) || Number(declared) <= USAGE_READ_BYTES;
}

/** The answer's bytes as they pass, kept only while they stay within the bound (then none are). */
export class UsageTap {
  private chunks: Uint8Array[] | undefined = [];
  private length = 0;

  constructor(private readonly limitBytes = USAGE_READ_BYTES) {}

  add(chunk: Uint8Array): void {
    if (!this.chunks) return;
    this.length += chunk.byteLength;
    if (this.length > this.limitBytes) this.chunks = undefined;
    else this.chunks.push(chunk);
  }

  /** The whole answer, or undefined when it passed the bound. */
  bytes(): Buffer | undefined {
    return this.chunks ? Buffer.concat(this.chunks) : undefined;
  }
}

type Loose = Record<string, unknown>;

const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;

/**
 * A `usage` object's tokens, in pi-ai's terms (input without the cached tokens, which are cacheRead):
 * - OpenAI Chat Completions and embeddings, Mistral, Jina: `prompt_tokens` (+ `completion_tokens`, cached details);
 * - Anthropic, OpenAI Responses and audio: `input_tokens`, `output_tokens` (+ Anthropic's cache fields, or Responses'
 *   `input_tokens_details.cached_tokens`, which `input_tokens` includes);
 * - Voyage embeddings and rerank, Jina rerank: `total_tokens` alone, all input.
 */
function usageTokens(usage: Loose): TokenCounts | undefined {
  const tokens = zeroTokens();
  if (count(usage.prompt_tokens) !== undefined || count(usage.completion_tokens) !== undefined) {
    openAITokens(tokens, usage);
    return tokens;
  }
  const input = count(usage.input_tokens);
  const output = count(usage.output_tokens);
  if (input !== undefined || output !== undefined) {
    const details = isObject(usage.input_tokens_details) ? usage.input_tokens_details : undefined;
    const cachedIncluded = Math.min(count(details?.cached_tokens) ?? 0, input ?? 0);
    tokens.input = (input ?? 0) - cachedIncluded;
    tokens.output = output ?? 0;
    tokens.cacheRead = cachedIncluded + (count(usage.cache_read_input_tokens) ?? 0);
    tokens.cacheWrite = count(usage.cache_creation_input_tokens) ?? 0;
    return tokens;
  }
  const total = count(usage.total_tokens);
  if (total === undefined) return undefined;
  tokens.input = total;
  return tokens;
}

/** Gemini's `usageMetadata`: the prompt's count includes the cached tokens; thoughts are output. */
function geminiTokens(metadata: Loose): TokenCounts | undefined {
  const prompt = count(metadata.promptTokenCount);
  const candidates = count(metadata.candidatesTokenCount);
  if (prompt === undefined && candidates === undefined) return undefined;
  const cached = Math.min(count(metadata.cachedContentTokenCount) ?? 0, prompt ?? 0);
  return {
    input: (prompt ?? 0) - cached,
    output: (candidates ?? 0) + (count(metadata.thoughtsTokenCount) ?? 0),
    cacheRead: cached,
    cacheWrite: 0,
  };
}

/**
 * The tokens a proxied JSON answer reports, or undefined when it reports none this reads: not JSON, no usage record,
 * a record without token counts (Cohere's rerank `search_units`, an audio answer's `seconds`: no per-token price
 * applies) or with invalid ones only. Never throws.
 */
export function proxiedTokens(body: Buffer): TokenCounts | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  if (isObject(parsed.usage)) return usageTokens(parsed.usage);
  if (isObject(parsed.usageMetadata)) return geminiTokens(parsed.usageMetadata);
  // Cohere's `meta.billed_units` (embed, chat): input and output tokens.
  const billed = isObject(parsed.meta) && isObject(parsed.meta.billed_units) ? parsed.meta.billed_units : undefined;
  if (billed && (count(billed.input_tokens) !== undefined || count(billed.output_tokens) !== undefined))
    return { ...zeroTokens(), input: count(billed.input_tokens) ?? 0, output: count(billed.output_tokens) ?? 0 };
  return undefined;
}

/** The message the runtime books for a proxied answer whose usage was read; undefined when none was. */
export function proxiedAnswerMessage(
  target: Model<Api>,
  tap: UsageTap | undefined,
  now: number,
): AssistantMessage | undefined {
  try {
    const bytes = tap?.bytes();
    const tokens = bytes && bytes.length > 0 ? proxiedTokens(bytes) : undefined;
    return tokens ? answerMessage(target, tokens, "stop", [], now) : undefined;
  } catch {
    return undefined; // the answer was forwarded already: what cannot be read is not counted, never an error
  }
}
