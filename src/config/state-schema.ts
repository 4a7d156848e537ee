// Config block `state`: where routing state lives. The file store is the embedded default; `redis` shares cooldowns,
// breakers, health, quota readings, budgets, shadow mode, ratings and the usage ledger across machines.
import { z } from "zod";

export const STORE_BACKENDS = ["file", "redis"] as const;
export const STORE_DOWN_MODES = ["local", "block"] as const;

export const stateConfigSchema = () =>
  z.strictObject({
    backend: z
      .enum(STORE_BACKENDS)
      .optional()
      .describe("file (default) or redis (team mode; env AUTO_ROUTER_REDIS_URL also selects it)"),
    url: z
      .string()
      .optional()
      .describe("redis://[user:password@]host:6379/0 or rediss:// (TLS); env AUTO_ROUTER_REDIS_URL wins"),
    keyPrefix: z.string().optional().describe("Prefix of every key, e.g. par:<team>: (default par:)"),
    machine: z
      .string()
      .optional()
      .describe("This machine's name in events and status (default: the host name; env AUTO_ROUTER_MACHINE)"),
    onStoreDown: z
      .enum(STORE_DOWN_MODES)
      .optional()
      .describe(
        "While Redis is unreachable: block = a hard budget fails closed (default); local = decide on the local view",
      ),
  });
export type StateConfig = z.infer<ReturnType<typeof stateConfigSchema>>;
