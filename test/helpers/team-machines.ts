// Team mode through real pi processes: one redis-server and two emulated providers (mock-a served by emulator A,
// mock-b by B), shared by "machines" that each have an agent dir of their own and a route `main` over both targets.
import { makeAgentDir, type ProviderSpec, routeInOrder } from "./agent-dir.ts";
import { startOpenAIEmulator } from "./openai-emulator.ts";
import { startRedisServer, type RedisServer } from "./redis-server.ts";
import type { Emulator } from "./sse-emulator-core.ts";

type ModelCost = NonNullable<ProviderSpec["models"][number]["cost"]>;

export interface Team {
  redis: RedisServer;
  primary: Emulator;
  secondary: Emulator;
  /**
   * One machine: its own agent dir, routes file with the team store (plus `extra` fields), and a name; `providers`
   * adds providers to pi's models.json beside mock-a and mock-b.
   */
  machine(
    name: string,
    keyPrefix: string,
    extra?: Record<string, unknown>,
    providers?: Record<string, ProviderSpec>,
  ): { agentDir: string };
  /** A provider served by `emulator` with one model `id` (at the team's prices). */
  provider(emulator: Emulator, apiKey: string, id: string): ProviderSpec;
  /** Stops the servers and removes every machine's agent dir. */
  close(): Promise<void>;
}

export async function startTeam(options: { password?: string; cost?: ModelCost } = {}): Promise<Team> {
  const redis = await startRedisServer({ password: options.password });
  const primary = await startOpenAIEmulator({ name: "A" });
  const secondary = await startOpenAIEmulator({ name: "B" });
  const cleanups: Array<() => void> = [];
  const provider = (emulator: Emulator, apiKey: string, id: string): ProviderSpec => ({
    baseUrl: emulator.url,
    api: "openai-completions",
    apiKey,
    models: [{ id, ...(options.cost ? { cost: options.cost } : {}) }],
  });
  return {
    redis,
    primary,
    secondary,
    provider,
    machine(name, keyPrefix, extra = {}, providers = {}) {
      const dir = makeAgentDir({
        providers: {
          "mock-a": provider(primary, "sk-mock-a-key", "model-a"),
          "mock-b": provider(secondary, "sk-mock-b-key", "model-b"),
          ...providers,
        },
        routes: {
          routes: {
            main: routeInOrder("mock-a/model-a", "mock-b/model-b"),
          },
          state: { backend: "redis", url: redis.url, keyPrefix, machine: name },
          ...extra,
        },
      });
      cleanups.push(dir.cleanup);
      return dir;
    },
    async close() {
      await Promise.all([primary.close(), secondary.close()]);
      await redis.stop();
      for (const cleanup of cleanups) cleanup();
    },
  };
}
