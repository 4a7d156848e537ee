// Prepaid balances of per-token providers, fetched in the background (never on the request path): cached with a TTL,
// one fetch in flight per provider, and a failed fetch keeps the last value marked stale. The last good reading of
// each provider is kept in a store (auto-router.balances.json; the team store in team mode) with the time it was
// fetched, as quota readings are: a new process enforces a floor from its first prompt, and one process's fetch
// serves every other. providerStatus() only reads `get()`, which is memory.
import { z } from "zod";
import { formatUsd } from "../analytics/text-format.ts";
import type { RouterConfig } from "../config/schema.ts";
import type { RegistryLike } from "../runtime/start-target.ts";
import { DEEPSEEK_BALANCE_ENDPOINT, parseDeepSeekBalance, type ParsedBalance } from "../quota/balance-deepseek.ts";
import { fetchJsonWithRetry, type FetchLike } from "../quota/fetch-json.ts";
import { OPENROUTER_BALANCE_ENDPOINT, parseOpenRouterBalance } from "../quota/balance-openrouter.ts";
import { accountOf } from "../routing/types.ts";

export const BALANCE_TTL_MS = 5 * 60_000;
/**
 * A reading older than this missed a refresh and is shown as stale even when no fetch failed (one kept from an
 * earlier process, say). Two TTLs: a refresh that finds its reading a moment short of the TTL leaves it to the next.
 */
export const BALANCE_STALE_AFTER_MS = 2 * BALANCE_TTL_MS;

export const BALANCES_STORE_NAME = "balances";
const storedBalanceSchema = z.object({ amount: z.number().finite(), currency: z.string(), fetchedAt: z.number() });
export const balancesStateSchema = z.object({
  v: z.literal(1),
  /** The last successful reading per provider (no key or token: the amount, its currency and when it was read). */
  readings: z.record(z.string(), storedBalanceSchema),
});
export type BalancesState = z.infer<typeof balancesStateSchema>;
export type StoredBalance = z.infer<typeof storedBalanceSchema>;
export const emptyBalances = (): BalancesState => ({ v: 1, readings: {} });
export const parseBalances = (raw: unknown): BalancesState => balancesStateSchema.parse(raw);

/** Stores a reading unless a newer one is there: a slow fetch ending after another window's does not replace it. */
export const storeReadingOperation =
  (provider: string, reading: StoredBalance) =>
  (state: BalancesState): BalancesState =>
    (state.readings[provider]?.fetchedAt ?? Number.NEGATIVE_INFINITY) > reading.fetchedAt
      ? state
      : { ...state, readings: { ...state.readings, [provider]: reading } };

/** Successful readings as every process sharing the state sees them. */
export interface SharedBalances {
  read(provider: string): StoredBalance | undefined;
  write(provider: string, reading: StoredBalance): void;
}

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

function hostOf(url: unknown): string | undefined {
  if (typeof url !== "string" || url === "") return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** "$12.50" for dollars; any other currency in its own code, never with a "$": "30.00 CNY". */
export function formatBalance(amount: number, currency = "USD"): string {
  return currency === "USD" ? formatUsd(amount, "spend") : `${amount.toFixed(2)} ${currency}`;
}

/** The last fetch failed, or the reading missed a refresh (BALANCE_STALE_AFTER_MS). */
export const isStale = (entry: BalanceEntry, now: number): boolean =>
  entry.stale === true || (entry.fetchedAt !== undefined && now - entry.fetchedAt >= BALANCE_STALE_AFTER_MS);

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
  /** Where the last good readings are kept for the next process (and the team); memory only without. */
  shared?: SharedBalances;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

/**
 * The longest the first prompt waits for the first balance of a provider with a floor (as long as a team sync), and
 * `balance floor` for the first balance of the provider it set a floor for.
 */
export const BALANCE_FIRST_WAIT_MS = 2_000;

export class BalanceBook {
  private readonly entries = new Map<string, BalanceEntry>();
  /** Counts changes to the entries, so views derived from them know when to recompute. */
  version = 0;
  private readonly inFlight = new Map<string, Promise<BalanceEntry>>();
  /** Stops the fetches still running when the owner closes, so they never keep a finished `pi -p` alive. */
  private readonly closing = new AbortController();

  constructor(private readonly options: BalanceBookOptions) {}

  /** The newer of this process's entry and the shared reading (one another process, or an earlier one, fetched). */
  get(provider: string): BalanceEntry | undefined {
    const own = this.entries.get(provider);
    const shared = this.options.shared?.read(provider);
    if (!shared || (own?.fetchedAt !== undefined && own.fetchedAt >= shared.fetchedAt)) return own;
    return { amount: shared.amount, currency: shared.currency, fetchedAt: shared.fetchedAt };
  }

  /** Whether a fetch of the provider's balance is under way. */
  fetching(provider: string): boolean {
    return this.inFlight.has(provider);
  }

  /** Fetches unless a fresh value exists (or `force`); concurrent calls for one provider share one request. */
  refresh(source: BalanceSource, force = false): Promise<BalanceEntry> {
    const current = this.get(source.provider);
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
    // The provider's own API only: a key for a proxy or a self-hosted server (its baseUrl elsewhere) is not sent to the
    // vendor's balance API, which would not know it anyway; balanceEndpoint names where to ask instead.
    if (source.endpoint === DEFAULT_ENDPOINTS[source.kind]) {
      const official = new URL(source.endpoint).host;
      const own = hostOf(model.baseUrl);
      if (own !== undefined && own !== official)
        throw new Error(
          `${source.target.provider}'s baseUrl is ${own}, not ${official}: its key is not sent to ${official}; set balanceEndpoint on its target to fetch its balance`,
        );
    }
    const auth = await registry.getApiKeyAndHeaders(model);
    if (!auth.ok || !auth.apiKey) throw new Error(`no API key for ${source.provider}`);
    return { Authorization: `Bearer ${auth.apiKey}`, Accept: "application/json" };
  }

  private async fetchOne(source: BalanceSource): Promise<BalanceEntry> {
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
      const reading = { amount: parsed.amount, currency: parsed.currency, fetchedAt: this.options.now() };
      this.options.shared?.write(source.provider, reading);
      entry = reading;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      entry = { ...this.get(source.provider), stale: true, error: message };
    }
    this.entries.set(source.provider, entry);
    this.version += 1;
    return entry;
  }

  /**
   * Resolves once every source without a known amount has had one fetch (started now, or the one in flight), or after
   * `maxWaitMs`, whichever is first; at once when every amount is known. Never rejects.
   */
  firstReadings(sources: BalanceSource[], maxWaitMs: number): Promise<void> {
    const unknown = sources.filter((source) => this.get(source.provider)?.amount === undefined);
    if (unknown.length === 0) return Promise.resolve();
    const fetches = Promise.allSettled(unknown.map((source) => this.refresh(source)));
    return new Promise((resolve) => {
      // unref()'d: it only bounds the wait; the fetches keep the process alive while they run.
      const timer = setTimeout(resolve, maxWaitMs);
      timer.unref();
      void fetches.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Cancels the fetches in flight (their entries become stale with "cancelled") and waits for them to end. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
