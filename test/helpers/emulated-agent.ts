// Local emulators by name and an agent dir whose providers point at them: the setup the gateway's and the pi CLI's
// end-to-end tests share. Written once so that every file starts, resets and cleans up the same way (and a
// half-started setup is cleaned up too, since a test's `after` never sees a fixture whose start threw).
import { makeAgentDir, type ProviderSpec } from "./agent-dir.ts";
import { startAnthropicEmulator } from "./anthropic-emulator.ts";
import { startOpenAIEmulator } from "./openai-emulator.ts";
import { startResponsesEmulator } from "./responses-emulator.ts";
import type { Emulator } from "./sse-emulator-core.ts";

/** `responses-account`: a Responses emulator that refuses encrypted reasoning it did not issue (one OpenAI account). */
export type EmulatorKind = "openai" | "anthropic" | "responses" | "responses-account";

const startAccountEmulator = (options: { name?: string }) => startResponsesEmulator({ ...options, account: true });

const EMULATOR_KINDS = {
  openai: { start: startOpenAIEmulator, api: "openai-completions" },
  anthropic: { start: startAnthropicEmulator, api: "anthropic-messages" },
  responses: { start: startResponsesEmulator, api: "openai-responses" },
  "responses-account": { start: startAccountEmulator, api: "openai-responses" },
} as const satisfies Record<EmulatorKind, { start: unknown; api: ProviderSpec["api"] }>;

type ModelSpec = ProviderSpec["models"][number];

/** A provider served by one of the fixture's emulators: its API and base URL are the emulator's. */
export interface EmulatorProvider<Name extends string = string> {
  emulator: Name;
  apiKey: string;
  /** Model ids, or whole model entries where a model needs its own fields. */
  models: ReadonlyArray<string | ModelSpec>;
  /** Fields every model of the provider gets (maxTokens, cost, ...). */
  modelOptions?: Omit<ModelSpec, "id">;
}

/** By provider name: a short spec on an emulator, or a whole provider entry (its own base URL and fields). */
export type FixtureProviders<Name extends string = string> = Record<string, EmulatorProvider<Name> | ProviderSpec>;

/** The two OpenAI-protocol providers most pi CLI tests route over: mock-a on emulator A, mock-b on emulator B. */
export const TWO_OPENAI_PROVIDERS = {
  "mock-a": { emulator: "A" as const, apiKey: "sk-mock-a", models: ["model-a"] },
  "mock-b": { emulator: "B" as const, apiKey: "sk-mock-b", models: ["model-b"] },
};

export interface EmulatedAgentOptions<Name extends string> {
  /** Emulators to start, by name (the name is also the emulator's own, shown in its replies and logs). */
  emulators: Record<Name, EmulatorKind>;
  providers?: FixtureProviders<NoInfer<Name>>;
  routes?: unknown;
  settings?: Record<string, unknown>;
}

export interface EmulatedAgent<Name extends string> {
  emulators: Record<Name, Emulator>;
  /** The provider entries written to models.json, for a test that writes another agent dir on the same emulators. */
  providers: Record<string, ProviderSpec>;
  agentDir: string;
  /** Forgets every emulator's calls and queued replies (for a beforeEach). */
  reset(): void;
  /** Closes the emulators and removes the agent dir; safe to call more than once. */
  stop(): Promise<void>;
}

/** models.json entries for `providers`, the short specs filled in from their emulators. */
function emulatorProviders<Name extends string>(
  emulators: Record<Name, Emulator>,
  providers: FixtureProviders<Name>,
  kinds: Record<Name, EmulatorKind>,
): Record<string, ProviderSpec> {
  const entries = Object.entries(providers).map(([name, spec]): [string, ProviderSpec] => {
    if (!("emulator" in spec)) return [name, spec];
    const emulator = emulators[spec.emulator];
    if (!emulator) throw new Error(`provider ${name}: no emulator named ${spec.emulator} in the fixture`);
    const models = spec.models.map((model) =>
      typeof model === "string" ? { id: model, ...spec.modelOptions } : { ...spec.modelOptions, ...model },
    );
    return [
      name,
      { baseUrl: emulator.url, api: EMULATOR_KINDS[kinds[spec.emulator]].api, apiKey: spec.apiKey, models },
    ];
  });
  return Object.fromEntries(entries);
}

export async function startEmulatedAgent<Name extends string>(
  options: EmulatedAgentOptions<Name>,
): Promise<EmulatedAgent<Name>> {
  const emulators = {} as Record<Name, Emulator>;
  let dir: ReturnType<typeof makeAgentDir> | undefined;
  let stopping: Promise<void> | undefined;
  const agent = {
    emulators,
    reset: () => Object.values<Emulator>(emulators).forEach((emulator) => emulator.reset()),
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(Object.values<Emulator>(emulators).map((emulator) => emulator.close()));
        dir?.cleanup();
      })()),
  } as EmulatedAgent<Name>;
  try {
    // allSettled: when one emulator fails to start, the others are still closed by stop().
    const started = await Promise.allSettled(
      (Object.entries(options.emulators) as Array<[Name, EmulatorKind]>).map(async ([name, kind]) => {
        emulators[name] = await EMULATOR_KINDS[kind].start({ name });
      }),
    );
    for (const result of started) if (result.status === "rejected") throw result.reason;
    agent.providers = options.providers ? emulatorProviders(emulators, options.providers, options.emulators) : {};
    dir = makeAgentDir({
      providers: options.providers && agent.providers,
      routes: options.routes,
      settings: options.settings,
    });
    agent.agentDir = dir.agentDir;
    return agent;
  } catch (error) {
    await agent.stop();
    throw error;
  }
}
