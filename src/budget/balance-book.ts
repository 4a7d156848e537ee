// Prepaid balances of per-token providers, fetched in the background (never on the request path): cached with a TTL,
// one fetch in flight per provider, and a failed fetch keeps the last value marked stale. providerStatus() only
// reads `get()`, which is memory.
import { formatUsd } from "../analytics/text-format.ts";
import type { RouterConfig } from "../config/schema.ts";
import type { RegistryLike } from "../runtime/start-target.ts";
import { DEEPSEEK_BALANCE_ENDPOINT, parseDeepSeekBalance, type ParsedBalance } from "../quota/balance-deepseek.ts";
import { fetchJsonWithRetry, type FetchLike } from "../quota/fetch-json.ts";
import { OPENROUTER_BALANCE_ENDPOINT, parseOpenRouterBalance } from "../quota/balance-openrouter.ts";
import { accountOf } from "../routing/types.ts";

export const BALANCE_TTL_MS = 5 * 60_000;

export type BalanceKind = "deepseek" | "openrouter";

export interface BalanceSource {
  /** Budget provider name (the target's authProvider or provider). */
  provider: string;
  kind: BalanceKind;
  endpoint: string;
  /** A target of this provider, to ask pi's registry for its credentials. */
  target: { provider: string; modelId: string };
}

export interface BalanceEntry {
  amount?: number;
  /** The currency of `amount` ("USD", "CNY"); floors are in USD and apply only to a USD balance. */
  currency?: string;
  fetchedAt?: number;
  /** The last fetch failed; `amount` (if any) is from an earlier one. */
  stale?: boolean;
  error?: string;
}

const KIND_BY_PROVIDER: Record<string, BalanceKind> = { deepseek: "deepseek", openrouter: "openrouter" };
const DEFAULT_ENDPOINTS: Record<BalanceKind, string> = {
  deepseek: DEEPSEEK_BALANCE_ENDPOINT,
  openrouter: OPENROUTER_BALANCE_ENDPOINT,
};
const PARSERS: Record<BalanceKind, (body: unknown) => ParsedBalance> = {
  deepseek: parseDeepSeekBalance,
  openrouter: parseOpenRouterBalance,
};

/** "$12.50" for dollars; any other currency in its own code, never with a "$": "30.00 CNY". */
export function formatBalance(amount: number, currency = "USD"): string {
  return currency === "USD" ? formatUsd(amount, "spend") : `${amount.toFixed(2)} ${currency}`;
}

/** Floors are USD: only a balance in USD is compared with one. */
export const floorApplies = (entry: BalanceEntry): boolean => (entry.currency ?? "USD") === "USD";

/** Providers of the config with a known balance API (by name), endpoint overridable per target (`balanceEndpoint`). */
export function balanceSources(config: RouterConfig): BalanceSource[] {
  const sources = new Map<string, BalanceSource>();
  for (const route of Object.values(config.routes)) {
    for (const target of route.targets) {
      const provider = accountOf(target);
      const kind = KIND_BY_PROVIDER[provider.toLowerCase()] ?? KIND_BY_PROVIDER[target.provider.toLowerCase()];
      if (!kind) continue;
      const existing = sources.get(provider);
      if (existing && (existing.endpoint !== DEFAULT_ENDPOINTS[kind] || !target.balanceEndpoint)) continue;
      sources.set(provider, {
        provider,
        kind,
        endpoint: target.balanceEndpoint ?? DEFAULT_ENDPOINTS[kind],
        target: { provider: target.provider, modelId: target.modelId },
      });
    }
  }
  return [...sources.values()];
}

export interface BalanceBookOptions {
  registry: () => RegistryLike | undefined;
  now: () => number;
  fetch?: FetchLike;
  ttlMs?: number;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

export class BalanceBook {
  private readonly entries = new Map<string, BalanceEntry>();
  /** Counts changes to the entries, so views derived from them know when to recompute. */
  version = 0;
  private readonly inFlight = new Map<string, Promise<BalanceEntry>>();
  /** Stops the fetches still running when the owner closes, so they never keep a finished `pi -p` alive. */
  private readonly closing = new AbortController();

  constructor(private readonly options: BalanceBookOptions) {}

  get(provider: string): BalanceEntry | undefined {
    return this.entries.get(provider);
  }

  all(): Record<string, BalanceEntry> {
    return Object.fromEntries(this.entries);
  }

  /** Fetches unless a fresh value exists (or `force`); concurrent calls for one provider share one request. */
  refresh(source: BalanceSource, force = false): Promise<BalanceEntry> {
    const current = this.entries.get(source.provider);
    const ttl = this.options.ttlMs ?? BALANCE_TTL_MS;
    if (!force && current?.fetchedAt !== undefined && !current.stale && this.options.now() - current.fetchedAt < ttl)
      return Promise.resolve(current);
    const pending = this.inFlight.get(source.provider);
    if (pending) return pending;
    const run = this.fetchOne(source).finally(() => this.inFlight.delete(source.provider));
    this.inFlight.set(source.provider, run);
    return run;
  }

  private async headers(source: BalanceSource): Promise<Record<string, string>> {
    const registry = this.options.registry();
    const model = registry?.find(source.target.provider, source.target.modelId);
    if (!registry || !model)
      throw new Error(
        `no model ${source.target.provider}/${source.target.modelId} in pi's registry to take credentials from`,
      );
    const auth = await registry.getApiKeyAndHeaders(model);
    if (!auth.ok || !auth.apiKey) throw new Error(`no API key for ${source.provider}`);
    return { Authorization: `Bearer ${auth.apiKey}`, Accept: "application/json" };
  }

  private async fetchOne(source: BalanceSource): Promise<BalanceEntry> {
    const previous = this.entries.get(source.provider);
    let entry: BalanceEntry;
    try {
      const body = await fetchJsonWithRetry(source.endpoint, {
        headers: await this.headers(source),
        signal: this.closing.signal,
        fetch: this.options.fetch,
        retries: this.options.retries,
        backoffMs: this.options.backoffMs,
        timeoutMs: this.options.timeoutMs,
      });
      const parsed = PARSERS[source.kind](body);
      entry = { amount: parsed.amount, currency: parsed.currency, fetchedAt: this.options.now() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      entry = { ...previous, stale: true, error: message };
    }
    this.entries.set(source.provider, entry);
    this.version += 1;
    return entry;
  }

  /** Cancels the fetches in flight (their entries become stale with "cancelled") and waits for them to end. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
