// OpenRouter's credits: GET https://openrouter.ai/api/v1/credits -> {"data":{"total_credits":50,"total_usage":42.5}}
// (balance = credits - usage). The key endpoint (/api/v1/key -> {"data":{"limit":10,"usage":2,"limit_remaining":8}})
// is accepted too, so `balanceEndpoint` may point at either.
import type { ParsedBalance } from "./balance-deepseek.ts";

export const OPENROUTER_BALANCE_ENDPOINT = "https://openrouter.ai/api/v1/credits";

export function parseOpenRouterBalance(body: unknown): ParsedBalance {
  const data = (body as { data?: Record<string, unknown> })?.data;
  if (!data || typeof data !== "object") throw new Error("OpenRouter balance answer has no data");
  const number = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);
  const credits = number(data.total_credits);
  const used = number(data.total_usage);
  if (credits !== undefined && used !== undefined) return { amount: credits - used, currency: "USD" };
  const remaining = number(data.limit_remaining);
  if (remaining !== undefined) return { amount: remaining, currency: "USD" };
  throw new Error("OpenRouter balance answer has neither total_credits/total_usage nor limit_remaining");
}
