// Prepaid balances of per-token providers, fetched in the background (never on the request path): cached with a TTL,
// one fetch in flight per provider, and a failed fetch keeps the last value marked stale. The last good reading of
// each provider is kept in a store (auto-router.balances.json; the team store in team mode) with the time it was
// fetched, as quota readings are: a new process enforces a floor from its first prompt, and one process's fetch
// serves every other. A background refresh fetches only for the process holding the provider's claim for the TTL (one
// machine of a team per refresh period; the others use its reading). providerStatus() only reads `get()`, memory.
import { z } from "zod";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import { formatMoney, USD } from "../config/floor-amount.ts";
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
/**
 * The provider's spend in the usage ledger when its balance was fetched: this month's USD and the month (the ledger's
 * calendar key), so the spend booked since is what the ledger holds beyond it (spendSince in usage-ledger.ts).
 */
const spendMarkSchema = stateObject({ month: z.string(), usd: z.number().finite() });
export type SpendMark = z.infer<typeof spendMarkSchema>;
const storedBalanceSchema = stateObject({
  amount: z.number().finite(),
  currency: z.string(),
  /** The balances the answer held in other currencies, by code (an account with a USD and a CNY balance). */
  others: z.record(z.string(), z.number().finite()).optional(),
  fetchedAt: stateTime(),
  /** Absent in a reading stored by an earlier version, or where no ledger was at hand: nothing is taken off it. */
  spentMark: spendMarkSchema.optional(),
});
export const balancesStateSchema = stateObject({
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
  /**
   * True for the one process that fetches this provider's balance in this TTL (see PluginContext.claim); a claim that
   * expires without a reading lets another fetch. Absent: every process fetches a reading older than the TTL itself.
   */
  claim?(name: string, ttlMs: number): Promise<boolean>;
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
  /** The currency of `amount` ("USD", "CNY"); a floor applies only to a balance in its own currency. */
  currency?: string;
  /** The balances in other currencies, by code, when the answer held several. */
  others?: Record<string, number>;
  fetchedAt?: number;
  /** The provider's ledger spend when `amount` was fetched (see SpendMark). */
  spentMark?: SpendMark;
  /**
   * Set by lessSpend: the USD the ledger booked for the provider since the fetch, already taken off the USD balance
   * (`amount`, or `others.USD`), which is then the current balance, not the fetched one.
   */
  spentSinceUsd?: number;
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

/** The last fetch failed, or the reading missed a refresh (BALANCE_STALE_AFTER_MS). */
export const isStale = (entry: BalanceEntry, now: number): boolean =>
  entry.stale === true || (entry.fetchedAt !== undefined && now - entry.fetchedAt >= BALANCE_STALE_AFTER_MS);

/** `entry`'s balance in `currency` (USD when not given), if the API answered with one in it; a floor is compared only
 * with a balance in its own currency. */
export const balanceIn = (entry: BalanceEntry, currency = USD): number | undefined =>
  (entry.currency ?? USD) === currency ? entry.amount : entry.others?.[currency];

/**
 * `entry` with the USD spend the ledger booked since its fetch (`spentSince` of its mark) taken off its USD balance:
 * the balance the provider has now, as far as the router knows, between two fetches. A balance in another currency
 * (DeepSeek's CNY) is left as fetched: USD spend cannot be taken off it without an exchange rate. A reading without a
 * mark (stored by an earlier version) is left as fetched too.
 */
export function lessSpend(
  entry: BalanceEntry | undefined,
  spentSince: (mark: SpendMark) => number,
): BalanceEntry | undefined {
  if (entry?.amount === undefined || !entry.spentMark) return entry;
  const inUsd = (entry.currency ?? USD) === USD;
  if (!inUsd && entry.others?.[USD] === undefined) return entry;
  const spent = spentSince(entry.spentMark);
  if (!(spent > 0)) return entry;
  return inUsd
    ? { ...entry, amount: entry.amount - spent, spentSinceUsd: spent }
    : { ...entry, others: { ...entry.others, [USD]: entry.others![USD]! - spent }, spentSinceUsd: spent };
}

/** "$4.80 ($5.00 fetched, $0.20 spent since)": a USD balance lessSpend took spend off, with what was fetched. */
const formatAfterSpend = (amount: number, spentSinceUsd: number | undefined, fetched = "fetched"): string =>
  spentSinceUsd === undefined
    ? formatMoney(amount, USD)
    : `${formatMoney(amount, USD)} (${formatMoney(amount + spentSinceUsd, USD)} ${fetched}, ${formatMoney(spentSinceUsd, USD)} spent since)`;

/**
 * Every balance of `entry`: "$5.00", "30.00 CNY", "$5.00, 110.00 CNY" for an account with both, or "unknown"; a USD
 * balance lessSpend took spend off as "$4.80 ($5.00 fetched, $0.20 spent since)".
 */
export const formatBalances = (entry: BalanceEntry | undefined): string =>
  entry?.amount === undefined
    ? "unknown"
    : [
        (entry.currency ?? USD) === USD
          ? formatAfterSpend(entry.amount, entry.spentSinceUsd)
          : formatMoney(entry.amount, entry.currency),
        ...Object.entries(entry.others ?? {}).map(([currency, amount]) =>
          currency === USD ? formatAfterSpend(amount, entry.spentSinceUsd) : formatMoney(amount, currency),
        ),
      ].join(", ");

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
  /** The provider's ledger spend now, kept with each reading (lessSpend takes what was booked after it off). */
  spendMark?: (provider: string) => SpendMark | undefined;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

/**
 * The longest the first prompt waits for the first balance of a provider with a floor (as long as a team sync), and
 * `balance floor` for the first balance of the provider it set a floor for.
 */
export const BALANCE_FIRST_WAIT_MS = 2_000;
/** How often that wait looks for a reading another process fetched (it held the claim): memory only. */
const FIRST_READING_POLL_MS = 50;

export class BalanceBook {
  private readonly entries = new Map<string, BalanceEntry>();
  /** Counts changes to the entries, so views derived from them know when to recompute. */
  version = 0;
  private readonly inFlight = new Map<string, Promise<BalanceEntry>>();
  /** Background refreshes asking for the provider's claim (then fetching if granted). */
  private readonly claiming = new Map<string, Promise<BalanceEntry>>();
  /** Stops the fetches still running when the owner closes, so they never keep a finished `pi -p` alive. */
  private readonly closing = new AbortController();

  constructor(private readonly options: BalanceBookOptions) {}

  /** The newer of this process's entry and the shared reading (one another process, or an earlier one, fetched). */
  get(provider: string): BalanceEntry | undefined {
    const own = this.entries.get(provider);
    const shared = this.options.shared?.read(provider);
    if (!shared || (own?.fetchedAt !== undefined && own.fetchedAt >= shared.fetchedAt)) return own;
    return {
      amount: shared.amount,
      currency: shared.currency,
      ...(shared.others ? { others: shared.others } : {}),
      fetchedAt: shared.fetchedAt,
      ...(shared.spentMark ? { spentMark: shared.spentMark } : {}),
    };
  }

  /** Whether a fetch of the provider's balance is under way. */
  fetching(provider: string): boolean {
    return this.inFlight.has(provider);
  }

  /**
   * Fetches unless a fresh value exists, and then only while holding the provider's claim for the TTL; `force`
   * (`balance fetch`) fetches whatever is shared or claimed. Concurrent calls for one provider share one request.
   */
  refresh(source: BalanceSource, force = false): Promise<BalanceEntry> {
    const current = this.get(source.provider);
    if (!force && this.fresh(current)) return Promise.resolve(current);
    if (force || !this.options.shared?.claim) return this.fetchNow(source);
    const pending = this.inFlight.get(source.provider) ?? this.claiming.get(source.provider);
    if (pending) return pending;
    const run = this.fetchClaimed(source).finally(() => this.claiming.delete(source.provider));
    this.claiming.set(source.provider, run);
    return run;
  }

  /** Only the process holding this TTL's claim fetches; the others use its reading when it arrives. */
  private async fetchClaimed(source: BalanceSource): Promise<BalanceEntry> {
    try {
      await this.headers(source);
    } catch {
      // No credentials here (or a key not for this endpoint): said locally, without taking the team's claim from a
      // machine that can fetch.
      return this.fetchNow(source);
    }
    const claimed = await this.options.shared!.claim!(`balance-fetch:${source.provider}`, this.ttlMs());
    // The claim waited for the team store: a reading it brought (a forced fetch elsewhere) is not fetched again.
    const current = this.get(source.provider);
    if (!claimed || this.fresh(current)) return current ?? {};
    return this.fetchNow(source);
  }

  private ttlMs(): number {
    return this.options.ttlMs ?? BALANCE_TTL_MS;
  }

  /** A reading of the last TTL whose fetch did not fail since. */
  private fresh(entry: BalanceEntry | undefined): entry is BalanceEntry {
    return entry?.fetchedAt !== undefined && !entry.stale && this.options.now() - entry.fetchedAt < this.ttlMs();
  }

  private fetchNow(source: BalanceSource): Promise<BalanceEntry> {
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
      // Taken before asking: spend booked while the answer is awaited counts as after the fetch (an API answers with
      // what it had billed when asked, or earlier), so it is taken off even if the balance already holds it.
      const spentMark = this.options.spendMark?.(source.provider);
      const body = await fetchJsonWithRetry(source.endpoint, {
        headers: await this.headers(source),
        signal: this.closing.signal,
        fetch: this.options.fetch,
        retries: this.options.retries,
        backoffMs: this.options.backoffMs,
        timeoutMs: this.options.timeoutMs,
      });
      const parsed = PARSERS[source.kind](body);
      const reading: StoredBalance = {
        amount: parsed.amount,
        currency: parsed.currency,
        ...(parsed.others ? { others: parsed.others } : {}),
        fetchedAt: this.options.now(),
        ...(spentMark ? { spentMark } : {}),
      };
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
   * Resolves once every source without a known amount has had one fetch (started now, or the one in flight) or, where
   * another process holds the claim, its reading has arrived, or after `maxWaitMs`, whichever is first; at once when
   * every amount is known. Never rejects.
   */
  firstReadings(sources: BalanceSource[], maxWaitMs: number): Promise<void> {
    const unknown = sources.filter((source) => this.get(source.provider)?.amount === undefined);
    if (unknown.length === 0) return Promise.resolve();
    const fetches = Promise.allSettled(unknown.map((source) => this.refresh(source)));
    const answered = () =>
      unknown.every((source) => this.get(source.provider)?.amount !== undefined || this.entries.has(source.provider));
    return new Promise((resolve) => {
      let poll: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      };
      // unref()'d: it only bounds the wait; the fetches keep the process alive while they run, the poll (for another
      // process's reading) until it arrives or the wait ends.
      const timer = setTimeout(done, maxWaitMs);
      timer.unref();
      void fetches.then(() => {
        if (answered()) return done();
        poll = setInterval(() => answered() && done(), FIRST_READING_POLL_MS);
      });
    });
  }

  /** Cancels the fetches in flight (their entries become stale with "cancelled") and waits for them to end. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.claiming.values(), ...this.inFlight.values()]);
  }
}
