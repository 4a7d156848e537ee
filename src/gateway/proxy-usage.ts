// What a proxied answer cost: the wildcard proxy forwards bytes it does not translate, but most answers carry the
// provider's own usage record: a JSON document (an embeddings list, a rerank result, a whole chat answer) or the last
// events of a stream. The bytes forwarded are read on the side as they pass (proxy-usage-stream.ts keeps only what it
// needs), and what they say becomes the attempt's message, priced with the target model's prices as a chat answer is,
// so the runtime's one bookkeeping (ledger, `usage` and `result` events, the final's cost, budgets) counts it; units that
// are no tokens (rerank's search units, audio seconds) ride along and are priced by the runtime when the routes file
// gives every one a price, else counted as a request and logged, unpriced (usage-units.ts). Nothing here changes or
// delays what the client gets, and nothing it cannot read is guessed: no usage, nothing counted. The message also
// carries the answer's id, read beside the record, by which the runtime pins an OpenRouter target's upstream.
import type { Api, AssistantMessage, Model } from "@mariozechner/pi-ai";
import { isObject } from "../is-object.ts";
import type { UnitCounts } from "../usage-units.ts";
import { answerMessage, openAITokens, type TokenCounts, zeroTokens } from "./passthrough-scan.ts";

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

/** Where a usage record sits in a JSON value, by its provider's shape; its fields are read by recordUsage. */
export type UsageShape = "usage" | "usageMetadata" | "billed_units" | "ollama";
export interface UsageRecord {
  shape: UsageShape;
  fields: Loose;
  /**
   * The answer's own top-level `id` beside the record (an embeddings list's, a completion's or its chunks'): an
   * OpenRouter target's answer is looked up by it to pin its upstream (upstream-pin.ts).
   */
  id?: string;
}

/** Ollama's native answers (`/api/chat`, `/api/generate`, `/api/embed`): top-level counts, no usage object. */
const OLLAMA_FIELDS = ["prompt_eval_count", "eval_count"] as const;

/**
 * The usage record a JSON value holds, or undefined: `usage` at the top (or in a stream event, under `response`
 * (OpenAI Responses' `response.completed`) or `message` (Anthropic's `message_start`)), Gemini's `usageMetadata`,
 * Cohere's `meta.billed_units`, or Ollama's `prompt_eval_count` / `eval_count`. The first found is the one; the
 * value's top-level `id` goes with it.
 */
export function usageRecord(value: unknown): UsageRecord | undefined {
  if (!isObject(value)) return undefined;
  const record = holdsUsage(value);
  return record && typeof value.id === "string" && value.id !== "" ? { ...record, id: value.id } : record;
}

function holdsUsage(value: Loose): UsageRecord | undefined {
  if (isObject(value.usage)) return { shape: "usage", fields: value.usage };
  for (const holder of [value.response, value.message])
    if (isObject(holder) && isObject(holder.usage)) return { shape: "usage", fields: holder.usage };
  if (isObject(value.usageMetadata)) return { shape: "usageMetadata", fields: value.usageMetadata };
  if (isObject(value.meta) && isObject(value.meta.billed_units))
    return { shape: "billed_units", fields: value.meta.billed_units };
  const ollama: Loose = {};
  for (const field of OLLAMA_FIELDS) if (count(value[field]) !== undefined) ollama[field] = value[field];
  return Object.keys(ollama).length > 0 ? { shape: "ollama", fields: ollama } : undefined;
}

/** A record's tokens, or undefined when it has none this reads (none, or invalid ones only). */
function recordTokens(record: UsageRecord): TokenCounts | undefined {
  const fields = record.fields;
  switch (record.shape) {
    case "usage":
      return usageTokens(fields);
    case "usageMetadata":
      return geminiTokens(fields);
    case "billed_units":
      // Cohere (embed, chat): input and output tokens.
      if (count(fields.input_tokens) === undefined && count(fields.output_tokens) === undefined) return undefined;
      return { ...zeroTokens(), input: count(fields.input_tokens) ?? 0, output: count(fields.output_tokens) ?? 0 };
    case "ollama": {
      const input = count(fields.prompt_eval_count);
      const output = count(fields.eval_count);
      if (input === undefined && output === undefined) return undefined;
      return { ...zeroTokens(), input: input ?? 0, output: output ?? 0 };
    }
  }
}

/** Cohere's billed units that are no tokens: `search_units` (rerank), `classifications`, `images`... */
const BILLED_TOKENS = new Set(["input_tokens", "output_tokens"]);

/** A record's units that are no tokens (usage-units.ts): Cohere's other billed units, an audio answer's `seconds`. */
function recordUnits(record: UsageRecord): UnitCounts | undefined {
  const units: UnitCounts = {};
  if (record.shape === "billed_units") {
    for (const [name, value] of Object.entries(record.fields))
      if (!BILLED_TOKENS.has(name) && count(value) !== undefined) units[name] = value as number;
  } else if (record.shape === "usage" && count(record.fields.seconds) !== undefined)
    units.seconds = record.fields.seconds as number;
  return Object.keys(units).length > 0 ? units : undefined;
}

/** What a proxied answer's usage record says: its tokens, its units that are no tokens, or both. */
export interface ProxiedUsage {
  tokens?: TokenCounts;
  units?: UnitCounts;
}

/** A record's usage, or undefined when it has neither tokens nor units this reads. */
export function recordUsage(record: UsageRecord | undefined): ProxiedUsage | undefined {
  if (!record) return undefined;
  const tokens = recordTokens(record);
  const units = recordUnits(record);
  if (!tokens && !units) return undefined;
  return { ...(tokens ? { tokens } : {}), ...(units ? { units } : {}) };
}

/** What reads a proxied answer's usage as its bytes pass (proxy-usage-stream.ts). */
export interface UsageReader {
  add(chunk: Uint8Array): void;
  /** The usage read, once the answer has ended; undefined when none was. */
  usage(): ProxiedUsage | undefined;
  /** The answer's id read beside its usage record (UsageRecord.id), once `usage()` was read. */
  responseId(): string | undefined;
}

/** The message the runtime books for a proxied answer whose usage was read; undefined when none was. */
export function proxiedAnswerMessage(
  target: Model<Api>,
  reader: UsageReader | undefined,
  now: number,
): AssistantMessage | undefined {
  try {
    const usage = reader?.usage();
    if (!reader || !usage) return undefined;
    const answer = { tokens: usage.tokens ?? zeroTokens(), content: [], responseId: reader.responseId() };
    const message = answerMessage(target, answer, "stop", now);
    // Units are priced downstream, with the routes file's unitPrices: they ride on the usage (usage-units.ts).
    if (usage.units) Object.assign(message.usage, { units: usage.units });
    return message;
  } catch {
    return undefined; // the answer was forwarded already: what cannot be read is not counted, never an error
  }
}
