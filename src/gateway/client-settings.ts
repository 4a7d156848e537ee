// A client's request settings that pi-ai's Context and options have no place for (tool choice, structured output,
// strict tools, stop sequences, top_p, seed, the end user), read from each client API into one neutral form. A
// translated request carries them to its target through the payload hook (target-settings.ts); a passthrough request
// keeps them as the client wrote them.
import { thinkingOn } from "../runtime/anthropic-thinking.ts";
import type { IgnoredTool } from "./hosted-tools.ts";
import { levelForBudget } from "./client-messages.ts";
import { TRANSLATED_CHAT_PARTS } from "./openai-request.ts";
import { reasoningLevel, summaryOnly } from "./responses-request.ts";

/** Which tool the model must call: any it likes, none, at least one, or the named function. */
import { openAIToolChoice, type ToolChoice } from "./tool-turns.ts";

export type { ToolChoice };

export type OutputFormat =
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema?: unknown; strict?: boolean; description?: string };

export interface SettingValues {
  toolChoice: ToolChoice;
  /** Only `false` is kept: one tool call per turn at most (parallel calls are every API's default). */
  parallelToolCalls: false;
  output: OutputFormat;
  /** Names of the function tools the client marked `strict`. */
  strictTools: string[];
  /**
   * Names of the Responses function tools that leave `strict` out (or null): Responses takes them as strict
   * (api.openai.com makes their schema strict). Carried strict where their schema is one strict mode takes as it is;
   * never named when not, as the client asked nothing of its own.
   */
  strictByDefault: string[];
  stop: string[];
  frequencyPenalty: number;
  presencePenalty: number;
  /** Carried by pi-ai's own option; kept here so a target that thinks can say it did not honour it. */
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  user: string;
  /**
   * The client's output cap when it asked for reasoning (and a Messages client's thinking budget). pi-ai adds a
   * thinking budget on top of the cap for an Anthropic target, whose max_tokens already holds the budget; the payload
   * hook puts the cap back and fits the budget under it. Named as the client's reasoning field when it cannot fit.
   */
  thinkingLimit: ThinkingLimit;
  /**
   * The effort the client asked for (an effort other than `none`; Anthropic thinking on as pi-ai's level for its
   * budget). pi-ai carries it by its own option; a target whose request ends up asking for none (a model without
   * reasoning, a compat that has no effort field), or for a lower level (`xhigh` on a model without it), did not
   * honour it, and says so.
   */
  reasoning: string;
}

export interface ThinkingLimit {
  maxTokens: number;
  budgetTokens?: number;
}

export type SettingKey = keyof SettingValues;

export interface ClientSettings {
  values: Partial<SettingValues>;
  /** The client API's own name of each setting: what `x-auto-router-ignored` lists when a target cannot take it. */
  names: Record<SettingKey, string>;
  /** Settings the client sent in a form no target is sent (e.g. `tool_choice: {"type":"allowed_tools"}`). */
  unsupported: string[];
}

type Loose = Record<string, any>;
const isObject = (value: unknown): value is Loose =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const given = (value: unknown): boolean => value !== undefined && value !== null;

const NAMES: Record<SettingKey, string> = {
  toolChoice: "tool_choice",
  parallelToolCalls: "parallel_tool_calls",
  output: "response_format",
  strictTools: "tools[].function.strict",
  strictByDefault: "tools[].function.strict",
  stop: "stop",
  frequencyPenalty: "frequency_penalty",
  presencePenalty: "presence_penalty",
  temperature: "temperature",
  topP: "top_p",
  topK: "top_k",
  seed: "seed",
  user: "user",
  thinkingLimit: "reasoning_effort",
  reasoning: "reasoning_effort",
};
const CHAT_NAMES = NAMES;
const RESPONSES_NAMES = {
  ...NAMES,
  output: "text.format",
  strictTools: "tools[].strict",
  strictByDefault: "tools[].strict",
  thinkingLimit: "reasoning.effort",
  reasoning: "reasoning.effort",
};
/** A Responses request that asked only for a summary has its reasoning named by that field. */
const SUMMARY_NAMES = { ...RESPONSES_NAMES, thinkingLimit: "reasoning.summary", reasoning: "reasoning.summary" };
const ANTHROPIC_NAMES = {
  ...NAMES,
  thinkingLimit: "thinking",
  reasoning: "thinking",
  parallelToolCalls: "tool_choice.disable_parallel_tool_use",
  stop: "stop_sequences",
  user: "metadata.user_id",
  output: "output_config.format",
};
/** A request whose structured output is the beta's `output_format` (before output_config.format). */
const ANTHROPIC_BETA_FORMAT_NAMES = { ...ANTHROPIC_NAMES, output: "output_format" };

/** Collects the settings a request gave; a value it gave in a form nothing reads is named in `unsupported`. */
function collect(names: Record<SettingKey, string>, read: Partial<Record<SettingKey, [unknown, unknown]>>) {
  const settings: ClientSettings = { values: {}, names, unsupported: [] };
  for (const [key, [raw, value]] of Object.entries(read) as [SettingKey, [unknown, unknown]][]) {
    if (value !== undefined) (settings.values as Record<string, unknown>)[key] = value;
    else if (given(raw)) settings.unsupported.push(names[key]);
  }
  return settings;
}

/** `auto` is every API's default beside tools: nothing to carry, nothing lost (the Codex CLI always sends it). */
const chosen = (raw: unknown, choice: ToolChoice | undefined): [unknown, unknown] =>
  choice === "auto" ? [undefined, undefined] : [raw, choice];

const number = (value: unknown) => (typeof value === "number" ? value : undefined);
const text = (value: unknown) => (typeof value === "string" && value.length > 0 ? value : undefined);
const onlyFalse = (value: unknown) => (value === false ? false : undefined);
const strings = (value: unknown): string[] | undefined => {
  const list = typeof value === "string" ? [value] : value;
  return Array.isArray(list) && list.length > 0 && list.every((item) => typeof item === "string") ? list : undefined;
};

export function anthropicToolChoice(value: unknown): ToolChoice | undefined {
  if (!isObject(value)) return undefined;
  if (value.type === "auto" || value.type === "none") return value.type;
  if (value.type === "any") return "required";
  return value.type === "tool" && text(value.name) ? { name: value.name } : undefined;
}

/** Chat's `response_format` (schema under `json_schema`) and Responses' `text.format` (schema beside `type`). */
export function outputFormat(value: unknown): OutputFormat | "text" | undefined {
  if (!isObject(value)) return undefined;
  if (value.type === "text") return "text";
  if (value.type === "json_object") return { type: "json_object" };
  const fields = isObject(value.json_schema) ? value.json_schema : value;
  if (value.type !== "json_schema" || !text(fields.name)) return undefined;
  const format: OutputFormat = { type: "json_schema", name: fields.name, schema: fields.schema };
  if (typeof fields.strict === "boolean") format.strict = fields.strict;
  if (typeof fields.description === "string") format.description = fields.description;
  return format;
}

/** `text` is every API's default: nothing to carry, nothing lost. */
const output = (value: unknown) => {
  const format = outputFormat(value);
  return [format === "text" ? undefined : value, format === "text" ? undefined : format] as [unknown, unknown];
};

const strictNames = (tools: unknown, strictOf: (tool: Loose) => unknown, nameOf: (tool: Loose) => unknown) => {
  const names = Array.isArray(tools) ? tools.filter((tool) => isObject(tool) && strictOf(tool) === true) : [];
  return names.length ? names.map((tool) => String(nameOf(tool))) : undefined;
};

/** A reasoning effort that asks for some (`none` asks for none). */
const effortAsked = (effort: unknown): [unknown, string | undefined] => [
  undefined,
  typeof effort === "string" && effort !== "" && effort !== "none" ? effort : undefined,
];

/** The cap a client that asked for reasoning set (none asked, or no cap: nothing to keep). */
const thinkingLimit = (reasoning: unknown, maxTokens: unknown, budgetTokens?: unknown): [unknown, unknown] => {
  if (!reasoning || typeof maxTokens !== "number") return [undefined, undefined];
  const limit: ThinkingLimit = { maxTokens };
  if (typeof budgetTokens === "number") limit.budgetTokens = budgetTokens;
  return [undefined, limit];
};

/**
 * Both OpenAI APIs' prompt cache key and retention (pi-ai sends its own key, and the default retention) and the end
 * user's safety identifier, which a translated request does not carry.
 */
const promptCacheAndSafety = (request: Loose) => [
  ...(text(request.prompt_cache_key) ? ["prompt_cache_key"] : []),
  ...(text(request.prompt_cache_retention) && request.prompt_cache_retention !== "in-memory"
    ? ["prompt_cache_retention"]
    : []),
  ...(text(request.safety_identifier) ? ["safety_identifier"] : []),
];

/**
 * Chat Completions asks that an answer translated back from pi-ai's one text message cannot give (several choices,
 * log probabilities, spoken audio), or that pi-ai's options and messages have no place for (token biases, legacy
 * functions, participant names).
 */
const unanswerable = (request: Loose) => [
  ...(typeof request.n === "number" && request.n > 1 ? ["n"] : []),
  ...(request.logprobs === true ? ["logprobs"] : []),
  ...(typeof request.top_logprobs === "number" && request.top_logprobs > 0 ? ["top_logprobs"] : []),
  ...(isObject(request.logit_bias) && Object.keys(request.logit_bias).length > 0 ? ["logit_bias"] : []),
  ...(Array.isArray(request.modalities) && request.modalities.includes("audio") ? ["modalities"] : []),
  ...(given(request.audio) ? ["audio"] : []),
  // pi-ai sends `store: false` (or none), no service tier, no verbosity, no predicted output and no web search.
  ...(request.store === true ? ["store"] : []),
  ...(text(request.service_tier) && request.service_tier !== "auto" ? ["service_tier"] : []),
  ...(text(request.verbosity) && request.verbosity !== "medium" ? ["verbosity"] : []),
  ...(given(request.prediction) ? ["prediction"] : []),
  ...(given(request.web_search_options) ? ["web_search_options"] : []),
  ...promptCacheAndSafety(request),
  // The deprecated functions API (before `tools`): pi-ai's context has tools only, so the target gets none of these.
  ...(Array.isArray(request.functions) && request.functions.length > 0 ? ["functions"] : []),
  ...(given(request.function_call) ? ["function_call"] : []),
  // A participant's name (pi-ai's messages have none); a tool or function result's is its tool's, which the call carries.
  ...(Array.isArray(request.messages) &&
  request.messages.some((message: Loose) => !["tool", "function"].includes(message?.role) && text(message?.name))
    ? ["messages[].name"]
    : []),
];

const nonEmpty = (value: unknown) => isObject(value) && Object.keys(value).length > 0;

/**
 * Responses asks that a translated request does not carry: pi-ai sends `store: false`, its own cache key and no
 * service tier, answers at once, and has no place for the rest. A value equal to what the target gets anyway (the
 * API's default) is no setting.
 */
const responsesUnanswerable = (request: Loose) => [
  ...(request.store === true ? ["store"] : []),
  ...(request.background === true ? ["background"] : []),
  ...(text(request.service_tier) && request.service_tier !== "auto" ? ["service_tier"] : []),
  ...(typeof request.top_logprobs === "number" && request.top_logprobs > 0 ? ["top_logprobs"] : []),
  ...promptCacheAndSafety(request),
  ...(text(request.text?.verbosity) && request.text.verbosity !== "medium" ? ["text.verbosity"] : []),
  ...(request.truncation === "auto" ? ["truncation"] : []),
  ...(typeof request.max_tool_calls === "number" ? ["max_tool_calls"] : []),
  ...(nonEmpty(request.client_metadata) ? ["client_metadata"] : []),
  // pi-ai asks for the reasoning's encrypted content itself (responses-reasoning.ts); nothing else is included.
  ...(Array.isArray(request.include) ? request.include : []).flatMap((entry: unknown, index: number) =>
    entry === "reasoning.encrypted_content" ? [] : [`include[${index}] (${String(entry)})`],
  ),
];

/**
 * Anthropic's structured output (`output_config.format`, a JSON schema) in the neutral form: another API's target is
 * sent it as its own JSON-schema format, named `response` (OpenAI's formats need a name; Anthropic's have none).
 */
const anthropicOutput = (format: unknown): [unknown, unknown] => [
  format,
  isObject(format) && format.type === "json_schema" && isObject(format.schema)
    ? { type: "json_schema", name: "response", schema: format.schema }
    : undefined,
];

/**
 * Messages asks that a translated request does not carry: pi-ai sends no service tier and no effort of Anthropic's
 * own, and has no place for a code execution container or remote MCP servers (which only Anthropic's servers can run),
 * an inference geography or fast mode.
 */
const anthropicUnanswerable = (request: Loose) => [
  ...(text(request.service_tier) && request.service_tier !== "auto" ? ["service_tier"] : []),
  ...(given(request.output_config?.effort) ? ["output_config.effort"] : []),
  // Context editing (clearing old tool results or thinking) runs on Anthropic's servers: a translation sends it nowhere.
  ...(given(request.context_management) ? ["context_management"] : []),
  ...(given(request.container) ? ["container"] : []),
  ...(Array.isArray(request.mcp_servers) && request.mcp_servers.length > 0 ? ["mcp_servers"] : []),
  // Where Anthropic runs the model (data residency; `global`, its default, is anywhere) and its fast mode: another
  // provider's target honours neither.
  ...(text(request.inference_geo) && request.inference_geo !== "global" ? ["inference_geo"] : []),
  ...(text(request.speed) && request.speed !== "standard" ? ["speed"] : []),
];

/** Fields pi-ai's context has no place for, named once each when a request gave them. */
const metadataOf = (request: Loose) => (nonEmpty(request.metadata) ? ["metadata"] : []);
const partsOf = (list: unknown): Loose[] =>
  Array.isArray(list) ? list.flatMap((item) => (Array.isArray(item?.content) ? item.content : [])) : [];
/** An image's `detail` other than `auto` (pi-ai's images have none; every target gets its default). */
const detailGiven = (detail: unknown) => typeof detail === "string" && detail !== "auto";

/**
 * Anthropic `document` blocks (PDF or text sources) by their path: pi-ai has no document content, so the target is
 * sent the rest of the message without them.
 */
function documentPaths(messages: unknown): string[] {
  if (!Array.isArray(messages)) return [];
  const paths: string[] = [];
  messages.forEach((message: Loose, index) => {
    if (!Array.isArray(message?.content)) return;
    message.content.forEach((block: Loose, blockIndex: number) => {
      const where = `messages[${index}].content[${blockIndex}]`;
      if (block?.type === "document") paths.push(where);
      if (block?.type === "tool_result" && Array.isArray(block.content))
        block.content.forEach((inner: Loose, innerIndex: number) => {
          if (inner?.type === "document") paths.push(`${where}.content[${innerIndex}]`);
        });
    });
  });
  return paths.map((path) => `${path} (document)`);
}

/** Chat content parts pi-ai has no form for (`file`, `input_audio`), by their path and type: a translation leaves them out. */
function chatPartPaths(messages: unknown): string[] {
  if (!Array.isArray(messages)) return [];
  return messages.flatMap((message: Loose, index) =>
    Array.isArray(message?.content)
      ? message.content.flatMap((part: Loose, partIndex: number) =>
          TRANSLATED_CHAT_PARTS.has(part?.type) ? [] : [`messages[${index}].content[${partIndex}] (${part?.type})`],
        )
      : [],
  );
}

export function chatSettings(request: Loose): ClientSettings {
  const settings = collect(CHAT_NAMES, {
    toolChoice: chosen(request.tool_choice, openAIToolChoice(request.tool_choice)),
    parallelToolCalls: [undefined, onlyFalse(request.parallel_tool_calls)],
    output: output(request.response_format),
    strictTools: [
      undefined,
      strictNames(
        request.tools,
        (tool) => tool.function?.strict,
        (tool) => tool.function?.name,
      ),
    ],
    stop: [request.stop, strings(request.stop)],
    frequencyPenalty: [request.frequency_penalty, number(request.frequency_penalty)],
    presencePenalty: [request.presence_penalty, number(request.presence_penalty)],
    temperature: [undefined, number(request.temperature)],
    topP: [request.top_p, number(request.top_p)],
    seed: [request.seed, number(request.seed)],
    user: [request.user, text(request.user)],
    thinkingLimit: thinkingLimit(request.reasoning_effort, request.max_completion_tokens ?? request.max_tokens),
    reasoning: effortAsked(request.reasoning_effort),
  });
  settings.unsupported.push(...unanswerable(request), ...metadataOf(request), ...chatPartPaths(request.messages));
  if (partsOf(request.messages).some((part) => detailGiven(part.image_url?.detail)))
    settings.unsupported.push("messages[].content[].image_url.detail");
  return settings;
}

export function responsesSettings(request: Loose): ClientSettings {
  const settings = collect(summaryOnly(request.reasoning) ? SUMMARY_NAMES : RESPONSES_NAMES, {
    toolChoice: chosen(request.tool_choice, openAIToolChoice(request.tool_choice)),
    parallelToolCalls: [undefined, onlyFalse(request.parallel_tool_calls)],
    output: output(request.text?.format),
    strictTools: [
      undefined,
      strictNames(
        request.tools,
        (tool) => tool.strict,
        (tool) => tool.name,
      ),
    ],
    // A Responses function tool's `strict` defaults to true (the API's reference and function-calling guide).
    strictByDefault: [
      undefined,
      strictNames(
        request.tools,
        (tool) => tool.type === "function" && !given(tool.strict),
        (tool) => tool.name,
      ),
    ],
    temperature: [undefined, number(request.temperature)],
    topP: [request.top_p, number(request.top_p)],
    user: [request.user, text(request.user)],
    thinkingLimit: thinkingLimit(reasoningLevel(request.reasoning), request.max_output_tokens),
    reasoning: effortAsked(reasoningLevel(request.reasoning)),
  });
  settings.unsupported.push(...responsesUnanswerable(request), ...metadataOf(request));
  if (partsOf(request.input).some((part) => part.type === "input_image" && detailGiven(part.detail)))
    settings.unsupported.push("input[].content[].detail");
  return settings;
}

export function anthropicSettings(request: Loose): ClientSettings {
  const choice = request.tool_choice;
  const toolChoice = anthropicToolChoice(choice);
  // A choice of a server tool the translation left out (parseAnthropicRequest) would name a tool the target is not
  // sent, which it refuses: named as not carried instead.
  const leftOut =
    isObject(toolChoice) && request.ignoredTools?.some((tool: IgnoredTool) => tool.name === toolChoice.name);
  // The structured-outputs beta's own field, which output_config.format replaced: read the same, named as written.
  const betaFormat = request.output_config?.format === undefined && given(request.output_format);
  const settings = collect(betaFormat ? ANTHROPIC_BETA_FORMAT_NAMES : ANTHROPIC_NAMES, {
    toolChoice: chosen(choice, leftOut ? undefined : toolChoice),
    parallelToolCalls: [undefined, isObject(choice) && choice.disable_parallel_tool_use === true ? false : undefined],
    stop: [request.stop_sequences, strings(request.stop_sequences)],
    output: anthropicOutput(betaFormat ? request.output_format : request.output_config?.format),
    temperature: [undefined, number(request.temperature)],
    topP: [request.top_p, number(request.top_p)],
    topK: [request.top_k, number(request.top_k)],
    thinkingLimit: thinkingLimit(thinkingOn(request.thinking), request.max_tokens, request.thinking?.budget_tokens),
    reasoning: [undefined, thinkingOn(request.thinking) ? levelForBudget(request.thinking?.budget_tokens) : undefined],
    // metadata.user_id is not read: Claude Code fills it with an id of the user's Anthropic account and session,
    // which is no business of another provider's (and a long `user` some OpenAI-compatible servers refuse).
  });
  settings.unsupported.push(...anthropicUnanswerable(request), ...documentPaths(request.messages));
  return settings;
}
