// OpenRouter's credits: GET https://openrouter.ai/api/v1/credits -> {"data":{"total_credits":50,"total_usage":42.5}}
// (balance = credits - usage). The key endpoint (/api/v1/key -> {"data":{"limit":10,"usage":2,"limit_remaining":8}})
// is accepted too, so `balanceEndpoint` may point at either.
import type { ParsedBalance } from "./balance-deepseek.ts";

export const OPENROUTER_BALANCE_ENDPOINT = "https://openrouter.ai/api/v1/credits";

export function parseOpenRouterBalance(body: unknown): ParsedBalance {
  const data = (body as { data?: Record<string, unknown> })?.data;
  if (!data || typeof data !== "object") throw new Error("OpenRouter balance answer has no data");
  // A field sent but not a number is named with what it holds: "has neither" would send the reader looking for it.
  const number = (field: string): number | undefined => {
    const value = data[field];
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (value === undefined || (value === null && field === "limit_remaining")) return undefined;
    throw new Error(`OpenRouter balance answer: ${field} is ${JSON.stringify(value)}, expected a number of USD`);
  };
  const credits = number("total_credits");
  const used = number("total_usage");
  if (credits !== undefined && used !== undefined) return { amount: credits - used, currency: "USD" };
  const remaining = number("limit_remaining");
  if (remaining !== undefined) return { amount: remaining, currency: "USD" };
  if (data.limit_remaining === null)
    throw new Error(
      "OpenRouter's key answer has limit_remaining null: the key has no credit limit, so no balance of its own; point balanceEndpoint at /api/v1/credits for the account's",
    );
  throw new Error("OpenRouter balance answer has neither total_credits/total_usage nor limit_remaining");
}
