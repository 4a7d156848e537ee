// DeepSeek's prepaid balance: GET https://api.deepseek.com/user/balance with the API key.
// Answer: {"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"110.00",...}]}. Amounts are strings.
// An account topped up in yuan answers with a "CNY" entry (possibly beside a "USD" one): the USD entry is taken when
// there is one, else the first, in its own currency.
export const DEEPSEEK_BALANCE_ENDPOINT = "https://api.deepseek.com/user/balance";

export interface ParsedBalance {
  amount: number;
  /** ISO 4217 code, upper-case ("USD", "CNY"). */
  currency: string;
}

export function parseDeepSeekBalance(body: unknown): ParsedBalance {
  const infos = (body as { balance_infos?: Array<{ currency?: string; total_balance?: string | number }> })
    ?.balance_infos;
  if (!Array.isArray(infos) || infos.length === 0) throw new Error("DeepSeek balance answer has no balance_infos");
  const currencyOf = (info: { currency?: string }) => (info.currency ?? "USD").toUpperCase();
  const chosen = infos.find((info) => currencyOf(info) === "USD") ?? infos[0]!;
  // Number("") and Number(null) are 0: an empty amount would read as a spent balance and block the provider.
  const raw = chosen.total_balance;
  const amount = typeof raw === "number" || (typeof raw === "string" && raw.trim() !== "") ? Number(raw) : Number.NaN;
  if (!Number.isFinite(amount)) throw new Error("DeepSeek balance answer has no numeric total_balance");
  return { amount, currency: currencyOf(chosen) };
}
