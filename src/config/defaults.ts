// Built-in routes, used when no routes file exists. A slot's first model id is in pi 0.73.1's catalogue; where a newer
// pi line names the same subscription's models otherwise (pi 1.6.0 has none of 0.73.1's Codex models), the slot lists
// that line's ids after it, and the first id the running pi's catalogue knows is used. A target that the running pi
// does not know (or has no credentials for) is skipped with a reason, never an error.
import type { RouteConfig, RouterConfig } from "./schema.ts";

/** A built-in target: its provider and the model ids (with their labels) to try, the first one pi knows served. */
interface Slot {
  provider: string;
  choices: ReadonlyArray<readonly [modelId: string, label: string]>;
}

const slot = (provider: string, ...choices: Array<readonly [string, string]>): Slot => ({ provider, choices });

// Same model on every line.
const OPUS = slot("anthropic", ["claude-opus-4-7", "Claude Opus 4.7"]);
const SONNET = slot("anthropic", ["claude-sonnet-4-6", "Claude Sonnet 4.6"]);
const HAIKU = slot("anthropic", ["claude-haiku-4-5", "Claude Haiku 4.5"]);
const GEMINI_PRO = slot("google", ["gemini-3.1-pro-preview", "Gemini 3.1 Pro"]);
const GEMINI_FLASH = slot("google", ["gemini-3-flash-preview", "Gemini 3 Flash"]);
const DEEPSEEK_PRO = slot("deepseek", ["deepseek-v4-pro", "DeepSeek V4 Pro"]);
// 0.73.1's ids first, then the newer lines' model of the same price tier (1.6.0's, then 0.87.1's where they differ).
const CODEX_STRONGEST = slot(
  "openai-codex",
  ["gpt-5.5", "GPT-5.5 (Codex)"],
  ["gpt-6.2-astra", "GPT-6.2 Astra (Codex)"],
);
const CODEX_CODING = slot(
  "openai-codex",
  ["gpt-5.3-codex", "GPT-5.3 Codex"],
  ["gpt-6.2-sol", "GPT-6.2 Sol (Codex)"],
  ["gpt-6-sol", "GPT-6 Sol (Codex)"],
);
const CODEX_MINI = slot("openai-codex", ["gpt-5.4-mini", "GPT-5.4 mini (Codex)"], ["gpt-6-luna", "GPT-6 Luna (Codex)"]);
const DEEPSEEK_FLASH = slot(
  "deepseek",
  ["deepseek-v4-flash", "DeepSeek V4 Flash"],
  ["deepseek-flash", "DeepSeek V4.1 Flash"],
);

interface BuiltInRoute {
  name: string;
  description: string;
  slots: Slot[];
  /** Label suffix of every target (the long-context route names the window it is for). */
  suffix?: string;
}

const routes: Record<string, BuiltInRoute> = {
  "subscription-reasoning": {
    name: "Auto: subscription reasoning",
    description: "Hard problems: the strongest reasoning models first",
    slots: [OPUS, CODEX_STRONGEST, GEMINI_PRO, DEEPSEEK_PRO],
  },
  "subscription-swe": {
    name: "Auto: subscription coding",
    description: "Everyday software engineering",
    slots: [SONNET, CODEX_CODING, OPUS, GEMINI_PRO, slot("moonshotai", ["kimi-k2.6", "Kimi K2.6"]), DEEPSEEK_PRO],
  },
  "subscription-long-context": {
    name: "Auto: subscription long context",
    description: "Large repositories and long documents: 1M-token windows",
    slots: [SONNET, GEMINI_PRO, slot("google", ["gemini-2.5-pro", "Gemini 2.5 Pro"]), DEEPSEEK_PRO],
    suffix: " (1M)",
  },
  "subscription-economy": {
    name: "Auto: subscription economy",
    description: "Cheap and good enough",
    slots: [CODEX_MINI, GEMINI_FLASH, DEEPSEEK_FLASH, HAIKU],
  },
  "subscription-fast": {
    name: "Auto: subscription fast",
    description: "Lowest latency first",
    slots: [GEMINI_FLASH, CODEX_MINI, HAIKU, DEEPSEEK_FLASH],
  },
};

/** Whether the running pi's catalogue has a model (the default knows every first choice). */
export type KnowsModel = (provider: string, modelId: string) => boolean;

function builtInRoute({ name, description, slots, suffix = "" }: BuiltInRoute, knows: KnowsModel): RouteConfig {
  const targets = slots.map(({ provider, choices }) => {
    const [modelId, label] = choices.find(([id]) => knows(provider, id)) ?? choices[0]!;
    return { provider, modelId, label: `${label}${suffix}` };
  });
  return { name, description, targets };
}

const ALIASES = {
  reasoning: "subscription-reasoning",
  swe: "subscription-swe",
  long: "subscription-long-context",
  economy: "subscription-economy",
  fast: "subscription-fast",
};

const TIERS = {
  reasoning: { route: "subscription-reasoning" },
  swe: { route: "subscription-swe" },
  long: { route: "subscription-long-context" },
  fast: { route: "subscription-fast" },
};

const firstChoices: KnowsModel = () => false;

/**
 * The built-in routes with, in each slot, the first model id `knows` (the running pi's catalogue) has; without it,
 * pi 0.73.1's ids. A fresh object on every call, so no caller can mutate the built-in defaults.
 */
export function defaultConfig(knows: KnowsModel = firstChoices): RouterConfig {
  return {
    routes: Object.fromEntries(Object.entries(routes).map(([id, route]) => [id, builtInRoute(route, knows)])),
    aliases: { ...ALIASES },
    tiers: structuredClone(TIERS),
  };
}

/**
 * The earlier pi-auto-router's built-in routes that have another id here, and the built-in route in each one's place
 * (its `subscription-fast` has the same id here). A saved default or a resumed session naming one of them goes on
 * that route when there is no routes file (with one, the file's routes are the user's own).
 */
const EARLIER_BUILT_IN_ROUTES: Readonly<Record<string, string>> = {
  "subscription-premium": "subscription-reasoning",
  "subscription-coding": "subscription-swe",
};
/** Its built-in aliases of those routes (`/auto-router switch premium`). */
const EARLIER_BUILT_IN_ALIASES: Readonly<Record<string, string>> = {
  premium: "subscription-premium",
  coding: "subscription-coding",
};

/** The earlier router's built-in route id an id or alias of it names, and the built-in route in its place. */
export function earlierBuiltIn(name: string): { route: string; inPlace: string } | undefined {
  const route = Object.hasOwn(EARLIER_BUILT_IN_ALIASES, name) ? EARLIER_BUILT_IN_ALIASES[name]! : name;
  return Object.hasOwn(EARLIER_BUILT_IN_ROUTES, route)
    ? { route, inPlace: EARLIER_BUILT_IN_ROUTES[route]! }
    : undefined;
}

export const DEFAULT_COOLDOWN_WAIT_MS = 30_000;
