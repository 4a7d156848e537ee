// The usage of a message that consumed nothing: the router's own errors, a context-overflow probe, a client's history.
import type { Usage } from "@mariozechner/pi-ai";

export const zeroUsage = (): Usage => ({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  totalTokens: 0,
  cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
});
