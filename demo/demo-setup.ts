// The demo's world: three local emulated providers (rate-limited, overloaded, healthy) and a throw-away pi agent dir
// whose models.json points at them and whose routes file declares one demo route over all three. No key, no network.
import { join } from "node:path";
import { makeAgentDir } from "../test/helpers/agent-dir.ts";
import { startAnthropicEmulator } from "../test/helpers/anthropic-emulator.ts";
import type { Emulator, RecordedCall } from "../test/helpers/openai-emulator.ts";
import { startOpenAIEmulator } from "../test/helpers/openai-emulator.ts";

export const DEMO_ROUTE_ID = "demo-swe";
/** What the rate-limited provider says. pi-ai drops response headers on errors, so this text is all the router sees. */
export const RATE_LIMIT_RETRY_AFTER_SECONDS = 50;
export const RATE_LIMIT_MESSAGE =
  `Rate limit reached for gpt-5.3-codex in organization org-demo on requests per min (RPM): Limit 3, Used 3, Requested 1. ` +
  `Please try again in ${RATE_LIMIT_RETRY_AFTER_SECONDS}s.`;

export interface DemoTarget {
  provider: string;
  modelId: string;
  label: string;
  behaviour: string;
  emulator: Emulator;
}

export interface DemoWorld {
  agentDir: string;
  routesFile: string;
  eventLogPath: string;
  /** In route order: rate-limited, overloaded, healthy. */
  targets: [DemoTarget, DemoTarget, DemoTarget];
  healthy: DemoTarget;
  close(): Promise<void>;
}

/** The last user message's text, so the healthy provider can give an answer that fits the prompt. */
function lastUserText(call: RecordedCall): string {
  const messages: Array<{ role?: string; content?: unknown }> = Array.isArray(call.body?.messages)
    ? call.body.messages
    : [];
  const user = messages.filter((message) => message.role === "user").at(-1);
  if (typeof user?.content === "string") return user.content;
  if (Array.isArray(user?.content)) {
    return user.content.map((part: { text?: string }) => part.text ?? "").join("");
  }
  return "";
}

/** Canned answers keyed by a word of the prompt: the demo is about routing, not about the answers. */
function healthyAnswer(call: RecordedCall): string {
  const prompt = lastUserText(call).toLowerCase();
  if (prompt.includes("reverse")) return 'Use `[...text].reverse().join("")`; spreading keeps surrogate pairs intact.';
  if (prompt.includes("retry-after"))
    return "Retry-After is either a number of seconds or an HTTP date; honour whichever the server sent.";
  if (prompt.includes("haiku"))
    return "Three servers wake / two are tired, one answers / the prompt still gets through.";
  return `DeepSeek (emulated) answering call ${call.index + 1}.`;
}

export async function startDemoWorld(): Promise<DemoWorld> {
  const started: Emulator[] = [];
  try {
    const codex = await startOpenAIEmulator({ name: "demo-codex", model: "gpt-5.3-codex" });
    started.push(codex);
    const claude = await startAnthropicEmulator({ name: "demo-claude", model: "claude-sonnet-4-6" });
    started.push(claude);
    const deepseek = await startOpenAIEmulator({ name: "demo-deepseek", model: "deepseek-v4-pro" });
    started.push(deepseek);

    codex.setDefault({
      status: 429,
      retryAfterSeconds: RATE_LIMIT_RETRY_AFTER_SECONDS,
      errorMessage: RATE_LIMIT_MESSAGE,
      errorType: "rate_limit_exceeded",
    });
    claude.setDefault({ status: 529 });
    deepseek.setDefault((call) => ({ text: healthyAnswer(call), usage: { input: 42, output: 18 } }));

    const targets: [DemoTarget, DemoTarget, DemoTarget] = [
      {
        provider: "demo-codex",
        modelId: "gpt-5.3-codex",
        label: "GPT-5.3 Codex",
        behaviour: `429 rate limit, Retry-After ${RATE_LIMIT_RETRY_AFTER_SECONDS}s`,
        emulator: codex,
      },
      {
        provider: "demo-claude",
        modelId: "claude-sonnet-4-6",
        label: "Claude Sonnet 4.6",
        behaviour: "529 overloaded",
        emulator: claude,
      },
      {
        provider: "demo-deepseek",
        modelId: "deepseek-v4-pro",
        label: "DeepSeek V4 Pro",
        behaviour: "healthy",
        emulator: deepseek,
      },
    ];
    const { agentDir, cleanup } = makeAgentDir({
      // Left for the user to inspect after the demo (it prints the command that removes it).
      keep: true,
      providers: {
        "demo-codex": {
          baseUrl: codex.url,
          api: "openai-completions",
          apiKey: "sk-demo-codex",
          models: [
            {
              id: "gpt-5.3-codex",
              contextWindow: 400_000,
              maxTokens: 32_000,
              cost: { input: 1.75, output: 14, cacheRead: 0.175, cacheWrite: 0 },
            },
          ],
        },
        "demo-claude": {
          baseUrl: claude.url,
          api: "anthropic-messages",
          apiKey: "sk-ant-demo",
          models: [
            {
              id: "claude-sonnet-4-6",
              contextWindow: 200_000,
              maxTokens: 32_000,
              cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
            },
          ],
        },
        "demo-deepseek": {
          baseUrl: deepseek.url,
          api: "openai-completions",
          apiKey: "sk-demo-deepseek",
          models: [
            {
              id: "deepseek-v4-pro",
              contextWindow: 128_000,
              maxTokens: 8_192,
              cost: { input: 0.27, output: 1.1, cacheRead: 0.07, cacheWrite: 0 },
            },
          ],
        },
      },
      routes: {
        routes: {
          [DEMO_ROUTE_ID]: {
            name: "Demo: coding with failover",
            // Declared order, so the demo is predictable: the two failing providers are tried first.
            sortBy: "config",
            targets: targets.map((target) => ({
              provider: target.provider,
              modelId: target.modelId,
              label: target.label,
            })),
          },
        },
      },
    });
    return {
      agentDir,
      routesFile: join(agentDir, "extensions", "auto-router.routes.json"),
      eventLogPath: join(agentDir, "extensions", "auto-router.events.jsonl"),
      targets,
      healthy: targets[2],
      async close() {
        await Promise.all(started.map((emulator) => emulator.close()));
        cleanup();
      },
    };
  } catch (error) {
    await Promise.all(started.map((emulator) => emulator.close()));
    throw error;
  }
}
