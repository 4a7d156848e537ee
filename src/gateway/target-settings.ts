// The client's settings (client-settings.ts) written into the body pi-ai built for one target, by the target's API.
// pi-ai's streamSimple passes none of them for these APIs (it sets `tool_choice` only from its own option, which the
// gateway never sets, or a fixed `auto` for Codex, and `strict` false or null on every tool), so they are written
// here, in pi-ai's payload hook, once per attempt. What a target's API has no field for is not faked: it is named, in the client's own words, for the
// `x-auto-router-ignored` header of the answer that target serves.
import type { Api, Model } from "@mariozechner/pi-ai";
import { targetKey } from "../routing/types.ts";
import { type OpenRouterKeys, openRouterFields } from "./openrouter-keys.ts";
import { fitAnthropicThinking, thinkingOn } from "../runtime/anthropic-thinking.ts";
import type {
  ClientSettings,
  OutputFormat,
  SettingKey,
  SettingValues,
  ThinkingLimit,
  ToolChoice,
} from "./client-settings.ts";

type Loose = Record<string, any>;
type Values = Partial<SettingValues>;

interface TargetApi {
  /** Settings this API has no field for. */
  lacks: SettingKey[];
  /**
   * Writes the rest into the payload (pi-ai builds a new one for every attempt); returns the settings it could not
   * write into this payload after all.
   */
  write(payload: Loose, values: Values, tools: Loose[] | undefined): SettingKey[];
  /** Whether the body pi-ai built asks the target to reason (for a client that asked for reasoning). */
  reasons(payload: Loose): boolean;
}

/** An effort field that asks for reasoning (`none` is the off value pi-ai may write). */
const effortOn = (effort: unknown): boolean => typeof effort === "string" && effort !== "none";

const put = (payload: Loose, field: string, value: unknown) => {
  if (value !== undefined) payload[field] = value;
};

const openAIChoice = (choice: ToolChoice, named: (name: string) => Loose) =>
  typeof choice === "string" ? choice : named(choice.name);

const schemaFields = ({ type: _type, ...fields }: OutputFormat & { type: "json_schema" }) => fields;

/** Schema positions that hold schemas, by how: one schema, a list of them, or a map of names to them. */
const ONE_SCHEMA = ["items", "not"];
const SCHEMA_LISTS = ["anyOf", "allOf", "oneOf", "prefixItems"];
const SCHEMA_MAPS = ["properties", "$defs", "definitions"];

/**
 * Whether strict mode takes a tool's JSON schema as it is: an object whose objects are all closed
 * (`additionalProperties: false`) with every property required. api.openai.com refuses a strict tool whose schema is
 * not, so a tool strict only by Responses' default is not sent strict with such a schema.
 */
export function strictReady(schema: unknown, root = true): boolean {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return !root;
  const node = schema as Loose;
  if (root && node.type !== "object") return false;
  if (node.type === "object" || node.properties !== undefined) {
    const required: unknown[] = Array.isArray(node.required) ? node.required : [];
    const keys = Object.keys(typeof node.properties === "object" && node.properties ? node.properties : {});
    if (node.additionalProperties !== false || !keys.every((key) => required.includes(key))) return false;
  }
  const inner = [
    ...ONE_SCHEMA.map((key) => node[key]),
    ...SCHEMA_LISTS.flatMap((key) => (Array.isArray(node[key]) ? node[key] : [])),
    ...SCHEMA_MAPS.flatMap((key) =>
      typeof node[key] === "object" && node[key] !== null ? Object.values(node[key] as Loose) : [],
    ),
  ];
  return inner.every((child) => child === undefined || strictReady(child, false));
}

/**
 * Marks the client's strict tools strict; a tool whose API form has no `strict` (pi-ai leaves it out) cannot be, and
 * is named. A tool strict by Responses' default is marked so too when its schema is strict-ready, else left as it is
 * and not named (the client set nothing).
 */
function markStrict(tools: Loose[] | undefined, values: Values, holder: (tool: Loose) => Loose) {
  const { strictTools: names = [], strictByDefault = [] } = values;
  let lost = false;
  for (const tool of tools ?? []) {
    const fields = holder(tool);
    if (names.includes(fields.name)) {
      if ("strict" in fields) fields.strict = true;
      else lost = true;
    } else if (strictByDefault.includes(fields.name) && "strict" in fields && strictReady(fields.parameters))
      fields.strict = true;
  }
  return lost ? (["strictTools"] as SettingKey[]) : [];
}

const MAX_CHAT_STOP = 4;

const CHAT: TargetApi = {
  lacks: ["topK"],
  write(payload, values, tools) {
    if (tools && values.toolChoice)
      payload.tool_choice = openAIChoice(values.toolChoice, (name) => ({ type: "function", function: { name } }));
    if (tools) put(payload, "parallel_tool_calls", values.parallelToolCalls);
    const output = values.output;
    if (output)
      payload.response_format =
        output.type === "json_object" ? output : { type: "json_schema", json_schema: schemaFields(output) };
    // Chat Completions takes at most 4 stop sequences (api.openai.com refuses more): the first 4 are sent, and named.
    const stop = values.stop?.slice(0, MAX_CHAT_STOP);
    put(payload, "stop", stop);
    put(payload, "frequency_penalty", values.frequencyPenalty);
    put(payload, "presence_penalty", values.presencePenalty);
    put(payload, "top_p", values.topP);
    put(payload, "seed", values.seed);
    put(payload, "user", values.user);
    const cut: SettingKey[] = stop && stop.length < values.stop!.length ? ["stop"] : [];
    return [...markStrict(tools, values, (tool) => tool.function), ...cut];
  },
  // pi-ai's forms by the target's compat.thinkingFormat: reasoning_effort (OpenAI, DeepSeek), enable_thinking (zai,
  // qwen), chat_template_kwargs, thinking (DeepSeek) and reasoning.effort (OpenRouter).
  reasons: (payload) =>
    effortOn(payload.reasoning_effort) ||
    payload.enable_thinking === true ||
    payload.chat_template_kwargs?.enable_thinking === true ||
    payload.thinking?.type === "enabled" ||
    effortOn(payload.reasoning?.effort),
};

const RESPONSES: TargetApi = {
  lacks: ["stop", "frequencyPenalty", "presencePenalty", "seed", "topK"],
  write(payload, values, tools) {
    if (tools && values.toolChoice)
      payload.tool_choice = openAIChoice(values.toolChoice, (name) => ({ type: "function", name }));
    if (tools) put(payload, "parallel_tool_calls", values.parallelToolCalls);
    const output = values.output;
    if (output) payload.text = { ...payload.text, format: output };
    put(payload, "top_p", values.topP);
    put(payload, "user", values.user);
    return markStrict(tools, values, (tool) => tool);
  },
  reasons: (payload) => effortOn(payload.reasoning?.effort),
};

const ANTHROPIC_CHOICE = { auto: "auto", none: "none", required: "any" } as const;

/** Anthropic's least thinking budget; it must also stay below max_tokens. */
const MIN_THINKING_BUDGET = 1024;

/**
 * max_tokens back at the client's cap (pi-ai adds the thinking budget to it, and Anthropic's max_tokens holds the
 * budget already), with the budget under it: a Messages client's own when it fits, else pi-ai's for the level with
 * room left to answer. A cap with no room for the least budget turns thinking off (named, not faked).
 */
export function fitThinking(payload: Loose, limit: ThinkingLimit): SettingKey[] {
  const cap = Math.min(typeof payload.max_tokens === "number" ? payload.max_tokens : limit.maxTokens, limit.maxTokens);
  payload.max_tokens = cap;
  if (cap <= MIN_THINKING_BUDGET) {
    delete payload.thinking;
    return ["thinkingLimit"];
  }
  const own = limit.budgetTokens;
  const budget =
    own !== undefined && own < cap
      ? own
      : Math.min(Number(payload.thinking.budget_tokens) || cap, cap - MIN_THINKING_BUDGET);
  payload.thinking = { ...payload.thinking, budget_tokens: Math.max(MIN_THINKING_BUDGET, budget) };
  return [];
}

/** The lowest top_p Anthropic takes with thinking on. */
const MIN_THINKING_TOP_P = 0.95;

const ANTHROPIC: TargetApi = {
  // Messages has no JSON mode, penalties or seed; strict tools need a beta this gateway does not send.
  lacks: ["output", "strictTools", "frequencyPenalty", "presencePenalty", "seed"],
  write(payload, values, tools) {
    const unfit =
      values.thinkingLimit && payload.thinking?.type === "enabled" ? fitThinking(payload, values.thinkingLimit) : [];
    // Turns another API served may break Anthropic's thinking rules (anthropic-thinking.ts): thinking goes off then.
    const history = fitAnthropicThinking(payload);
    if (history?.messages) payload.messages = history.messages;
    if (history?.thinkingOff) {
      delete payload.thinking;
      if (!unfit.includes("thinkingLimit")) unfit.push("thinkingLimit");
    }
    // Anthropic refuses a forced tool call while thinking: the answer thinks, and says it did not force the call.
    const forced = values.toolChoice === "required" || typeof values.toolChoice === "object";
    const choiceLost = forced && thinkingOn(payload.thinking);
    const lost: SettingKey[] = choiceLost ? ["toolChoice", ...unfit] : [...unfit];
    const choice = choiceLost ? undefined : values.toolChoice;
    if (tools && (choice || values.parallelToolCalls === false)) {
      payload.tool_choice =
        choice === undefined || typeof choice === "string"
          ? { type: ANTHROPIC_CHOICE[choice ?? "auto"] }
          : { type: "tool", name: choice.name };
      if (values.parallelToolCalls === false && choice !== "none") payload.tool_choice.disable_parallel_tool_use = true;
    }
    put(payload, "stop_sequences", values.stop);
    // Anthropic takes a temperature from 0 to 1 (OpenAI's go to 2) and refuses a higher one: it is left out (Anthropic's
    // default, 1, is then the highest it gives), and named.
    if (typeof payload.temperature === "number" && payload.temperature > 1) delete payload.temperature;
    // With thinking, Anthropic refuses top_k and a top_p below 0.95: each is left out, and named.
    const thinking = thinkingOn(payload.thinking);
    if (thinking && values.topP !== undefined && values.topP < MIN_THINKING_TOP_P) lost.push("topP");
    else put(payload, "top_p", values.topP);
    if (thinking && values.topK !== undefined) lost.push("topK");
    else put(payload, "top_k", values.topK);
    if (values.user) payload.metadata = { ...payload.metadata, user_id: values.user };
    return lost;
  },
  reasons: (payload) => thinkingOn(payload.thinking),
};

// ChatGPT's Codex backend speaks Responses but refuses parameters its own CLI does not send.
const CODEX: TargetApi = { ...RESPONSES, lacks: [...RESPONSES.lacks, "topP", "user"] };

/** Settings pi-ai writes from its own options whatever the target's API. */
const CARRIED_BY_PI_AI = new Set<SettingKey>(["thinkingLimit", "temperature", "reasoning"]);
/** Settings the client did not write itself (an API's default), never named when a target cannot take them. */
const UNNAMED = new Set<SettingKey>(["strictByDefault"]);

const TARGET_APIS: Partial<Record<Api, TargetApi>> = {
  "openai-completions": CHAT,
  "openai-responses": RESPONSES,
  "azure-openai-responses": RESPONSES,
  "openai-codex-responses": CODEX,
  "anthropic-messages": ANTHROPIC,
};

/**
 * Whether pi-ai sends a model the reasoning level asked for as it is: it clamps a level the model's map does not offer
 * (`null`, or `xhigh` left out) to one it does.
 */
const levelKept = (model: Model<Api> | undefined, level: string): boolean => {
  const mapped = (model?.thinkingLevelMap as Record<string, unknown> | undefined)?.[level];
  return !model || (mapped !== null && (level !== "xhigh" || mapped !== undefined));
};

/** The payload with the settings written in, and the client's names of those the target's API could not take. */
export function writeSettings(
  api: Api,
  payload: unknown,
  settings: ClientSettings,
  model?: Model<Api>,
): { payload: unknown; ignored: string[] } {
  const given = Object.keys(settings.values) as SettingKey[];
  const target = TARGET_APIS[api];
  if (!target || typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    // The thinking limit and the temperature are no fields of their own: another API's target got them as pi-ai sends them.
    const named = given
      .filter((key) => !CARRIED_BY_PI_AI.has(key) && !UNNAMED.has(key))
      .map((key) => settings.names[key]);
    return { payload, ignored: [...settings.unsupported, ...named] };
  }
  const out: Loose = { ...payload };
  const tools = Array.isArray(out.tools) && out.tools.length > 0 ? (out.tools as Loose[]) : undefined;
  const lacked = given.filter((key) => target.lacks.includes(key));
  const carried = Object.fromEntries(
    Object.entries(settings.values).filter(([key]) => !lacked.includes(key as SettingKey)),
  );
  const lost = new Set([...target.write(out, carried, tools), ...lacked]);
  // pi-ai writes the temperature, or leaves it out where the target refuses one (an Anthropic model that thinks).
  if (settings.values.temperature !== undefined && out.temperature === undefined) lost.add("temperature");
  const reasoning = settings.values.reasoning;
  if (reasoning && (!target.reasons(out) || !levelKept(model, reasoning))) lost.add("reasoning");
  // One name for what the client sent: its reasoning field may stand for both the request and its budget.
  const names = new Set([...settings.unsupported, ...[...lost].map((key) => settings.names[key])]);
  return { payload: out, ignored: [...names] };
}

/**
 * One request's settings for every attempt: the payload hook writes them (and the request's OpenRouter keys) into each
 * target's body, and remembers per target what it could not, so the answer's header names what the target that served
 * it did not honour. A target sent the client's own body (a passthrough) takes only the OpenRouter keys: `sentAsIs`
 * gives the fields to set in that body.
 */
export function settingsCarrier(settings: ClientSettings | undefined, openRouter?: OpenRouterKeys) {
  // Also without settings of the client's own: an Anthropic target's body may need its history fitted to its rules.
  if (!settings && !openRouter) return undefined;
  const ignoredBy = new Map<string, string[]>();
  return {
    onPayload: (payload: unknown, model: Model<Api>): unknown => {
      const written = settings ? writeSettings(model.api, payload, settings, model) : { payload, ignored: [] };
      const out = written.payload as Loose;
      const carried = openRouterFields(model, openRouter, out?.provider);
      ignoredBy.set(targetKey(model.provider, model.id), [...written.ignored, ...carried.ignored]);
      return carried.provider && typeof out === "object" && out !== null ? { ...out, provider: carried.provider } : out;
    },
    sentAsIs(model: Model<Api>): Record<string, unknown> {
      const carried = openRouterFields(model, openRouter);
      ignoredBy.set(targetKey(model.provider, model.id), carried.ignored);
      return carried.provider ? { provider: carried.provider } : {};
    },
    /** `x-auto-router-ignored` for the target that served. */
    headers(servedKey: string | undefined): Record<string, string> {
      const ignored = servedKey ? ignoredBy.get(servedKey) : undefined;
      return ignored?.length ? { "x-auto-router-ignored": ignored.join(", ") } : {};
    },
  };
}
