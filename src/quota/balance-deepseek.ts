// DeepSeek's prepaid balance: GET https://api.deepseek.com/user/balance with the API key.
// Answer: {"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"110.00",...}]}. Amounts are strings.
// An account topped up in yuan answers with a "CNY" entry (possibly beside a "USD" one): the USD entry is the amount
// when there is one, else the first, in its own currency; the other entries are kept beside it, so a floor written in
// their currency is compared with them.
export const DEEPSEEK_BALANCE_ENDPOINT = "https://api.deepseek.com/user/balance";

export interface ParsedBalance {
  amount: number;
  /** ISO 4217 code, upper-case ("USD", "CNY"). */
  currency: string;
  /** The balances the answer holds in other currencies, by code. */
  others?: Record<string, number>;
}

/** Number("") and Number(null) are 0: an empty amount would read as a spent balance and block the provider. */
const amountOf = (raw: unknown): number =>
  typeof raw === "number" || (typeof raw === "string" && raw.trim() !== "") ? Number(raw) : Number.NaN;

export function parseDeepSeekBalance(body: unknown): ParsedBalance {
  const infos = (body as { balance_infos?: Array<{ currency?: string; total_balance?: string | number }> })
    ?.balance_infos;
  if (!Array.isArray(infos) || infos.length === 0) throw new Error("DeepSeek balance answer has no balance_infos");
  const currencyOf = (info: { currency?: string }) => (info.currency ?? "USD").toUpperCase();
  const chosen = infos.find((info) => currencyOf(info) === "USD") ?? infos[0]!;
  const amount = amountOf(chosen.total_balance);
  if (!Number.isFinite(amount)) throw new Error("DeepSeek balance answer has no numeric total_balance");
  const others: Record<string, number> = {};
  for (const info of infos) {
    const other = amountOf(info.total_balance);
    if (info !== chosen && currencyOf(info) !== currencyOf(chosen) && Number.isFinite(other))
      others[currencyOf(info)] = other;
  }
  return { amount, currency: currencyOf(chosen), ...(Object.keys(others).length > 0 ? { others } : {}) };
}
