// A finished assistant message of the mock target the runtime's unit tests stream, with a small usage record.
import type { AssistantMessage } from "@mariozechner/pi-ai";

export const mockAnswer = (text: string, stopReason: AssistantMessage["stopReason"] = "stop"): AssistantMessage => ({
  role: "assistant",
  content: text ? [{ type: "text", text }] : [],
  api: "faux",
  provider: "mock",
  model: "m",
  usage: {
    input: 1,
    output: 1,
    cacheRead: 0,
    cacheWrite: 0,
    totalTokens: 2,
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
  },
  stopReason,
  timestamp: 0,
});
