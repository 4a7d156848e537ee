// The setup the gateway's end-to-end tests share: local emulators by name, an agent dir whose providers point at
// them, the real `pi-auto-router serve` on that dir, and the official OpenAI and Anthropic clients on its URL and
// token. Written once so that every file starts, resets and cleans up the same way (and a half-started setup is
// cleaned up too, since a test's `after` never sees a fixture whose start threw).
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { makeAgentDir, type ProviderSpec } from "./agent-dir.ts";
import { startAnthropicEmulator } from "./anthropic-emulator.ts";
import { startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { startOpenAIEmulator } from "./openai-emulator.ts";
import { startResponsesEmulator } from "./responses-emulator.ts";
import type { Emulator } from "./sse-emulator-core.ts";

export type EmulatorKind = "openai" | "anthropic" | "responses";

const EMULATOR_KINDS = {
  openai: { start: startOpenAIEmulator, api: "openai-completions" },
  anthropic: { start: startAnthropicEmulator, api: "anthropic-messages" },
  responses: { start: startResponsesEmulator, api: "openai-responses" },
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

export interface GatewayFixtureOptions<Name extends string> {
  /** Emulators to start, by name (the name is also the emulator's own, shown in its replies and logs). */
  emulators: Record<Name, EmulatorKind>;
  providers?: FixtureProviders<NoInfer<Name>>;
  routes?: unknown;
  settings?: Record<string, unknown>;
  gatewayOptions?: Omit<Parameters<typeof startGatewayProcess>[0], "agentDir">;
}

export interface GatewayFixture<Name extends string> {
  emulators: Record<Name, Emulator>;
  /** The provider entries written to models.json, for a test that writes another agent dir on the same emulators. */
  providers: Record<string, ProviderSpec>;
  agentDir: string;
  /** The running gateway and clients on it; all three are replaced by restartGateway(). */
  gateway: GatewayProcess;
  openai: OpenAI;
  anthropic: Anthropic;
  /** Forgets every emulator's calls and queued replies (for a beforeEach). */
  reset(): void;
  /** Stops the gateway (if it still runs) and starts a new one on the same agent dir with the same options. */
  restartGateway(): Promise<void>;
  /** Stops the gateway, closes the emulators and removes the agent dir; safe to call more than once. */
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

export async function startGatewayFixture<Name extends string>(
  options: GatewayFixtureOptions<Name>,
): Promise<GatewayFixture<Name>> {
  const emulators = {} as Record<Name, Emulator>;
  let dir: ReturnType<typeof makeAgentDir> | undefined;
  let stopping: Promise<void> | undefined;
  const fixture = {
    emulators,
    reset: () => Object.values<Emulator>(emulators).forEach((emulator) => emulator.reset()),
    stop: () =>
      (stopping ??= (async () => {
        await fixture.gateway?.stop();
        await Promise.all(Object.values<Emulator>(emulators).map((emulator) => emulator.close()));
        dir?.cleanup();
      })()),
    restartGateway: async () => {
      await fixture.gateway?.stop();
      await connect();
    },
  } as GatewayFixture<Name>;
  const connect = async () => {
    const gateway = await startGatewayProcess({ ...options.gatewayOptions, agentDir: fixture.agentDir });
    fixture.gateway = gateway;
    fixture.openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.token, maxRetries: 0 });
    fixture.anthropic = new Anthropic({ baseURL: gateway.url, apiKey: gateway.token, maxRetries: 0 });
  };
  try {
    // allSettled: when one emulator fails to start, the others are still closed by stop().
    const started = await Promise.allSettled(
      (Object.entries(options.emulators) as Array<[Name, EmulatorKind]>).map(async ([name, kind]) => {
        emulators[name] = await EMULATOR_KINDS[kind].start({ name });
      }),
    );
    for (const result of started) if (result.status === "rejected") throw result.reason;
    fixture.providers = options.providers ? emulatorProviders(emulators, options.providers, options.emulators) : {};
    dir = makeAgentDir({
      providers: options.providers && fixture.providers,
      routes: options.routes,
      settings: options.settings,
    });
    fixture.agentDir = dir.agentDir;
    await connect();
    return fixture;
  } catch (error) {
    await fixture.stop();
    throw error;
  }
}
