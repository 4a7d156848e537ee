// What the CLI suites (concurrency, corruption, secrets) share: three emulated providers behind real pi-ai providers
// (two OpenAI dialect, one Anthropic), their models.json entries, and reading the prompt a recorded call answers.
// Each suite decides the replies itself (emulator.setDefault), so the ground truth stays in the suite.
import { startAnthropicEmulator } from "../test/helpers/anthropic-emulator.ts";
import { startOpenAIEmulator } from "../test/helpers/openai-emulator.ts";
import type { ProviderSpec } from "../test/helpers/agent-dir.ts";
import type { Emulator, RecordedCall } from "../test/helpers/sse-emulator-core.ts";

export type TargetName = "a" | "b" | "c";

export interface CliTarget {
  name: TargetName;
  provider: string;
  modelId: string;
  /** `provider/modelId`, the router's key for the target. */
  key: string;
  emulator: Emulator;
}

export const TARGET_NAMES: readonly TargetName[] = ["a", "b", "c"];
/** Per-million-token prices, so the usage ledger has a cost to add up. */
const MODEL_COST = { input: 1, output: 4, cacheRead: 0, cacheWrite: 0 };

export interface CliTargets {
  targets: Record<TargetName, CliTarget>;
  /** models.json providers for these targets; `apiKeys` overrides the placeholder keys. */
  providers(apiKeys?: Partial<Record<TargetName, string>>): Record<string, ProviderSpec>;
  reset(): void;
  close(): Promise<void>;
}

export async function startCliTargets(prefix: string): Promise<CliTargets> {
  const [a, b, c] = await Promise.all([
    startOpenAIEmulator({ name: "A" }),
    startAnthropicEmulator({ name: "B" }),
    startOpenAIEmulator({ name: "C" }),
  ]);
  const make = (name: TargetName, emulator: Emulator): CliTarget => {
    const provider = `${prefix}-${name}`;
    const modelId = `model-${name}`;
    return { name, provider, modelId, key: `${provider}/${modelId}`, emulator };
  };
  const targets: Record<TargetName, CliTarget> = { a: make("a", a!), b: make("b", b!), c: make("c", c!) };
  return {
    targets,
    providers(apiKeys = {}) {
      return Object.fromEntries(
        TARGET_NAMES.map((name) => {
          const target = targets[name];
          const spec: ProviderSpec = {
            baseUrl: target.emulator.url,
            api: name === "b" ? "anthropic-messages" : "openai-completions",
            apiKey: apiKeys[name] ?? `placeholder-${name}`,
            models: [{ id: target.modelId, cost: MODEL_COST }],
          };
          return [target.provider, spec];
        }),
      );
    },
    reset() {
      for (const name of TARGET_NAMES) targets[name].emulator.reset();
    },
    close: async () => {
      await Promise.all(TARGET_NAMES.map((name) => targets[name].emulator.close()));
    },
  };
}

/** The route entry listing the targets in this order (sortBy config: the router tries them as declared). */
export function routeOf(
  order: readonly TargetName[],
  targets: Record<TargetName, CliTarget>,
  extra: Record<string, unknown> = {},
) {
  return {
    sortBy: "config",
    targets: order.map((name) => ({ provider: targets[name].provider, modelId: targets[name].modelId })),
    ...extra,
  };
}

/** The text of the last user message of a recorded call (the prompt being answered; earlier ones are history). */
export function lastUserText(call: RecordedCall): string {
  const messages: any[] = Array.isArray(call.body?.messages) ? call.body.messages : [];
  const last = [...messages].reverse().find((message) => message?.role === "user");
  return last === undefined ? "" : JSON.stringify(last.content);
}

/** Assistant texts of every finished assistant message in `pi --mode json` output, in order. */
export function assistantTexts(jsonLines: string): string[] {
  const texts: string[] = [];
  for (const line of jsonLines.split("\n")) {
    if (!line.startsWith("{")) continue;
    let event: any;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    if (event.type !== "message_end" || event.message?.role !== "assistant") continue;
    const content: any[] = Array.isArray(event.message.content) ? event.message.content : [];
    texts.push(
      content
        .filter((block) => block?.type === "text")
        .map((block) => block.text)
        .join(""),
    );
  }
  return texts;
}
