// Config blocks of quota pacing (`uvi`) and the per-target circuit breaker (`breaker`), optional parts of
// routerConfigSchema; the plugins read them defensively with readUviConfig / readBreakerConfig.
import { z } from "zod";
import { endpointUrlSchema } from "./endpoint-url.ts";
import { timerMs } from "./gateway-schema.ts";

// At most Node's longest timer, as every duration of the routes file.
const milliseconds = () => timerMs(z.number().int().nonnegative());
const positiveMilliseconds = () => timerMs(z.number().int().positive());

export const uviThresholdsSchema = () =>
  z.strictObject({
    critical: z.number().positive().optional().describe("UVI at or above which the provider is excluded (default 2.0)"),
    stressed: z.number().positive().optional().describe("UVI at or above which the provider is demoted (default 1.5)"),
    surplus: z
      .number()
      .nonnegative()
      .optional()
      .describe("UVI at or below which a late window promotes the provider (default 0.5)"),
    surplusElapsed: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("Share of the window that must have elapsed for surplus (default 0.7)"),
  });
export type UviThresholdsConfig = z.infer<ReturnType<typeof uviThresholdsSchema>>;

export const uviEndpointsSchema = () =>
  z.strictObject({
    anthropic: endpointUrlSchema().optional().describe("Anthropic OAuth usage API (5 h / 7 day windows)"),
    codex: endpointUrlSchema().optional().describe("ChatGPT/Codex usage API (primary/secondary windows)"),
    gemini: endpointUrlSchema().optional().describe("Gemini CLI quota API (per-bucket remaining fractions)"),
  });
export type UviEndpointsConfig = z.infer<ReturnType<typeof uviEndpointsSchema>>;

export const uviConfigSchema = () =>
  z.strictObject({
    enabled: z.boolean().optional().describe("Quota pacing on (default true)"),
    hard: z
      .boolean()
      .optional()
      .describe("Exclude stressed providers instead of demoting them (env AUTO_ROUTER_UVI_HARD=1)"),
    thresholds: uviThresholdsSchema().optional(),
    endpoints: uviEndpointsSchema().optional().describe("Overrides of the usage API URLs (tests use local emulators)"),
    ttlMs: positiveMilliseconds().optional().describe("How long a fetched usage answer is reused (default 300000)"),
  });
export type UviConfig = z.infer<ReturnType<typeof uviConfigSchema>>;

export const breakerConfigSchema = () =>
  z.strictObject({
    enabled: z.boolean().optional().describe("Circuit breaker on (default true)"),
    ratio: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe("Failure share within the window that opens the breaker (default 0.5)"),
    minimumCalls: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Calls within the window before the ratio counts (default 5)"),
    windowMs: positiveMilliseconds().optional().describe("Sliding window of counted calls (default 120000)"),
    breakMs: positiveMilliseconds().optional().describe("First break duration before the probe (default 30000)"),
    maxBreakMs: positiveMilliseconds()
      .optional()
      .describe("Cap of the break duration after failed probes (default 600000)"),
    probeTimeoutMs: milliseconds()
      .optional()
      .describe("A probe that never reports back frees its slot after this (default 300000)"),
  });
export type BreakerConfig = z.infer<ReturnType<typeof breakerConfigSchema>>;

/** The block as configured, or {} when absent or invalid (an invalid block is reported by config loading). */
function readBlock<T>(config: unknown, key: string, schema: () => z.ZodType<T>): T | Record<string, never> {
  const raw = (config as Record<string, unknown> | undefined)?.[key];
  if (raw === undefined) return {};
  const parsed = schema().safeParse(raw);
  return parsed.success ? parsed.data : {};
}

export const readUviConfig = (config: unknown): UviConfig => readBlock(config, "uvi", uviConfigSchema);
export const readBreakerConfig = (config: unknown): BreakerConfig => readBlock(config, "breaker", breakerConfigSchema);
