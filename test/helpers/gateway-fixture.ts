// The setup the gateway's end-to-end tests share: local emulators by name and an agent dir whose providers point at
// them (emulated-agent.ts), the real `pi-auto-router serve` on that dir, and the official OpenAI and Anthropic clients
// on its URL and token. A half-started setup is cleaned up too, since a test's `after` never sees a fixture whose
// start threw.
import { after, before, beforeEach } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import {
  type EmulatedAgent,
  type EmulatedAgentOptions,
  type EmulatorKind,
  type EmulatorProvider,
  type FixtureProviders,
  startEmulatedAgent,
} from "./emulated-agent.ts";
import { until } from "./event-log.ts";
import { startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";

export type { EmulatorKind, EmulatorProvider, FixtureProviders };

export interface GatewayFixtureOptions<Name extends string> extends EmulatedAgentOptions<Name> {
  gatewayOptions?: Omit<Parameters<typeof startGatewayProcess>[0], "agentDir">;
}

export interface GatewayFixture<Name extends string> extends EmulatedAgent<Name> {
  /** The running gateway and clients on it; all three are replaced by restartGateway(). */
  gateway: GatewayProcess;
  openai: OpenAI;
  anthropic: Anthropic;
  /** Stops the gateway (if it still runs) and starts a new one on the same agent dir with the same options. */
  restartGateway(): Promise<void>;
  /** Stops the gateway, closes the emulators and removes the agent dir; safe to call more than once. */
  stop(): Promise<void>;
}

export async function startGatewayFixture<Name extends string>(
  options: GatewayFixtureOptions<Name>,
): Promise<GatewayFixture<Name>> {
  const agent = await startEmulatedAgent(options);
  let stopping: Promise<void> | undefined;
  const fixture = {
    ...agent,
    stop: () =>
      (stopping ??= (async () => {
        await fixture.gateway?.stop();
        await agent.stop();
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
    await connect();
    return fixture;
  } catch (error) {
    await fixture.stop();
    throw error;
  }
}

/**
 * An Anthropic client's stream on `model`, returned once its first text has arrived: for tests that signal or stop the
 * gateway mid-answer. `expectCut`: the stream's error is expected (finalMessage() then says how it ended).
 */
export async function streamUntilFirstText(
  client: Anthropic,
  model: string,
  options: { content?: string; expectCut?: boolean } = {},
) {
  const stream = client.messages.stream({
    model,
    max_tokens: 100,
    messages: [{ role: "user", content: options.content ?? "count" }],
  });
  const types: string[] = [];
  stream.on("streamEvent", (event) => types.push(event.type));
  if (options.expectCut) stream.on("error", () => {});
  await until(() => types.includes("content_block_delta"), "the first text");
  return { stream, types };
}

/** A `read` tool in Anthropic's shape, for the tool loops of the translation tests. */
export const READ_TOOL = {
  name: "read",
  input_schema: { type: "object" as const, properties: { path: { type: "string" } } },
};

/**
 * One target per API behind the gateway: routes `claude` (anthropic-messages, reasoning, images), `chat`
 * (openai-completions, reasoning) and `resp` (openai-responses), on emulators C, A and R. `passthrough: false`
 * translates every request; the default passes a client's body through to a target of its own API.
 */
export function startThreeApiGateway(
  options: { passthrough?: boolean } = {},
): Promise<GatewayFixture<"C" | "A" | "R">> {
  return startGatewayFixture({
    emulators: { C: "anthropic", A: "openai", R: "responses" },
    providers: {
      "mock-claude": {
        emulator: "C",
        apiKey: "sk-ant-mock-0000000001",
        models: [{ id: "model-claude", reasoning: true, maxTokens: 200_000, input: ["text", "image"] }],
      },
      "mock-chat": {
        emulator: "A",
        apiKey: "sk-mock-chat-0000000002",
        models: [{ id: "model-chat", reasoning: true }],
      },
      "mock-resp": { emulator: "R", apiKey: "sk-mock-resp-0000000003", models: ["model-resp"] },
    },
    routes: {
      routes: {
        claude: { sortBy: "config", targets: [{ provider: "mock-claude", modelId: "model-claude" }] },
        chat: { sortBy: "config", targets: [{ provider: "mock-chat", modelId: "model-chat" }] },
        resp: { sortBy: "config", targets: [{ provider: "mock-resp", modelId: "model-resp" }] },
      },
      ...(options.passthrough === false ? { gateway: { passthrough: false } } : {}),
      // Each route has one target: one a test breaks on purpose is served again by the next test, not after 30 s.
      failover: { kinds: { overloaded: { cooldownMs: 0 }, server: { cooldownMs: 0 } } },
    },
  });
}

/**
 * startThreeApiGateway for one describe block: started before its tests, reset before each, stopped after. `fx()` is
 * the fixture; `targetCalls()` counts the calls its three emulated targets got (none, for a request refused up front).
 */
export function threeApiGatewayPerSuite(options: { passthrough?: boolean } = {}): {
  fx: () => GatewayFixture<"C" | "A" | "R">;
  targetCalls: () => number;
} {
  let fixture: GatewayFixture<"C" | "A" | "R"> | undefined;
  before(async () => {
    fixture = await startThreeApiGateway(options);
  });
  after(() => fixture?.stop());
  beforeEach(() => fixture!.reset());
  const fx = () => fixture!;
  return {
    fx,
    targetCalls: () => Object.values(fx().emulators).reduce((sum, emulator) => sum + emulator.calls.length, 0),
  };
}
