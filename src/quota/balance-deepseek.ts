// DeepSeek's prepaid balance: GET https://api.deepseek.com/user/balance with the API key.
// Answer: {"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"110.00",...}]}. Amounts are strings.
export const DEEPSEEK_BALANCE_ENDPOINT = "https://api.deepseek.com/user/balance";

export interface ParsedBalance {
  usd: number;
  currency: string;
}

export function parseDeepSeekBalance(body: unknown): ParsedBalance {
  const infos = (body as { balance_infos?: Array<{ currency?: string; total_balance?: string | number }> })
    ?.balance_infos;
  if (!Array.isArray(infos) || infos.length === 0) throw new Error("DeepSeek balance answer has no balance_infos");
  const chosen = infos.find((info) => info.currency === "USD") ?? infos[0]!;
  const usd = Number(chosen.total_balance);
  if (!Number.isFinite(usd)) throw new Error("DeepSeek balance answer has no numeric total_balance");
  return { usd, currency: chosen.currency ?? "USD" };
}
