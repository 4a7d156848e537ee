// Budget limits come from two places: the config's `budgets.providers` block and `/auto-router budget set|clear` (and
// `/auto-router balance floor` for a balance floor). Command-set limits live in a store (auto-router.budget-limits.json)
// so every pi window sees them. Precedence, per provider AND field (daily, monthly, balanceFloor): a command-set value
// overrides the config's value for that field; `off` (stored as null) switches a config limit off; `clear` removes the
// command-set values so the config applies again, and leaves the clear's time per provider and field (`cleared`, beside
// the values, shared with them in team mode) so that `state push` does not bring back a value set before it. Provider
// names match case-insensitively, as provider preferences do: a limit for `Mock-A` is the limit of the provider `mock-a`.
import { z } from "zod";
import { assertOwnShape, hasUnknownField, stateObject } from "../state/unknown-fields.ts";
import type { BudgetsConfig, RouterConfig } from "../config/schema.ts";
import { type FloorAmount, floorOf, USD } from "../config/floor-amount.ts";
import { accountOf } from "../routing/types.ts";
import { lazy } from "../lazy.ts";
import { numberFromText } from "../number-from-text.ts";

export const LIMITS_STORE_NAME = "budget-limits";
export const BUDGET_PERIODS = ["daily", "monthly"] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];
/** What a command can set per provider: a period's limit, or the balance floor. */
export type LimitField = BudgetPeriod | "balanceFloor";

const amount = z.number().finite().nonnegative().nullable().optional();
const time = z.number().finite().optional();
/** A time (epoch ms) per field. */
const fieldTimes = stateObject({ daily: time, monthly: time, balanceFloor: time });
/**
 * Every field has a default, as in the usage ledger: a file with none of these keys is another shape, damage, not an
 * empty set of limits (parseLimits). Other keys, at the top, in an entry or its times, are a newer version's: kept
 * (unknown-fields.ts), and an entry or clear left with no value of this version's stays while it holds one of them.
 * `lenient` (the salvage of a damaged file): an amount written as text (`"3"`, a hand edit) is that number, as the
 * ledger's salvage reads its figures.
 */
const limitsSchemaOf = (lenient: boolean) => {
  const usd = lenient ? z.preprocess(numberFromText, amount) : amount;
  return stateObject({
    version: z.number().int().default(1),
    providers: z
      .record(
        z.string(),
        stateObject({
          daily: usd,
          monthly: usd,
          balanceFloor: usd,
          /** The balance floor's currency when it is not USD (stores written before floors had one hold USD). */
          balanceFloorCurrency: z.string().optional(),
          /** When the latest of its fields was set. */
          updatedAt: z.number().optional(),
          /** When each field was set (stores written before kept only updatedAt: it stands for each field then). */
          setAt: fieldTimes.optional(),
        }),
      )
      .default({}),
    /** When a command last cleared a provider's field (epoch ms); a value set since removes it. No limit in itself. */
    cleared: z.record(z.string(), fieldTimes).optional(),
  });
};
const limitsStateSchema = limitsSchemaOf(false);
/** Built when a damaged limits file is read (a healthy session never needs it). */
export const lenientLimitsStateSchema = lazy(() => limitsSchemaOf(true));
export type LimitsState = z.infer<typeof limitsStateSchema>;

export const emptyLimits = (): LimitsState => ({ version: 1, providers: {} });
type StoredLimits = LimitsState["providers"][string];
const LIMITS_FILE_FIELDS: ReadonlySet<string> = new Set(Object.keys(limitsStateSchema.shape));
export const parseLimits = (raw: unknown): LimitsState => {
  assertOwnShape(raw, LIMITS_FILE_FIELDS, "the limits' {version, providers, cleared}");
  return limitsStateSchema.parse(raw);
};

const LIMIT_FIELDS = [...BUDGET_PERIODS, "balanceFloor"] as const;
/** The fields of a provider's entry, and of its set or clear times, this version knows. */
const ENTRY_FIELDS: ReadonlySet<string> = new Set([...LIMIT_FIELDS, "balanceFloorCurrency", "updatedAt", "setAt"]);
const TIME_FIELDS: ReadonlySet<string> = new Set(LIMIT_FIELDS);
/** Whether `times` still hold a time: one of this version's fields, or one it does not know (a newer version's). */
const holdsTime = (times: Partial<Record<string, number>>): boolean =>
  LIMIT_FIELDS.some((field) => times[field] !== undefined) || hasUnknownField(times, TIME_FIELDS);

export const sameProvider = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * The providers spend is billed to (a target's authProvider, else its provider), each once: an account the routes
 * spell in several cases is one account, named as the routes first spell it, so its spend and limits are one.
 */
export function billedAccounts(config: RouterConfig): string[] {
  return [...accountSpellings(config).keys()];
}

/** Each billed account (as the routes first spell it) with every spelling its targets use, that one first. */
export function accountSpellings(config: RouterConfig): Map<string, string[]> {
  const byLower = new Map<string, string[]>();
  for (const route of Object.values(config.routes))
    for (const target of route.targets) {
      const account = accountOf(target);
      const spellings = byLower.get(account.toLowerCase());
      if (!spellings) byLower.set(account.toLowerCase(), [account]);
      else if (!spellings.includes(account)) spellings.push(account);
    }
  return new Map([...byLower.values()].map((spellings) => [spellings[0]!, spellings]));
}

/** The name a limit for `provider` is kept under: the billed provider's own spelling, else `provider` as written. */
export const providerNameIn = (accounts: readonly string[], provider: string): string =>
  accounts.find((account) => account === provider) ??
  accounts.find((account) => sameProvider(account, provider)) ??
  provider;

type Clears = NonNullable<LimitsState["cleared"]>;

/** `state` with `providers` and `cleared` (left out when empty, as a state that never had a clear has it). */
function stateWith(state: LimitsState, providers: LimitsState["providers"], cleared: Clears): LimitsState {
  const { cleared: _previous, ...rest } = state;
  return Object.keys(cleared).length === 0 ? { ...rest, providers } : { ...rest, providers, cleared };
}

/** When a command last cleared `provider`'s `field` (any spelling); undefined when none did, or it was set since. */
export function clearedAtOf(state: LimitsState, provider: string, field: LimitField): number | undefined {
  let latest: number | undefined;
  for (const [name, times] of Object.entries(state.cleared ?? {})) {
    const at = times[field];
    if (sameProvider(name, provider) && at !== undefined) latest = Math.max(latest ?? at, at);
  }
  return latest;
}

/** The clear times without `fields` of any spelling of `provider`, then those fields cleared `at` when given. */
function withClears(state: LimitsState, provider: string, fields: readonly LimitField[], at?: number): Clears {
  const result: Clears = {};
  for (const [name, times] of Object.entries(state.cleared ?? {})) {
    const rest = { ...times };
    if (sameProvider(name, provider)) for (const field of fields) delete rest[field];
    if (holdsTime(rest)) result[name] = rest;
  }
  if (at !== undefined)
    result[provider] = { ...result[provider], ...Object.fromEntries(fields.map((field) => [field, at])) };
  return result;
}

/** Removes `fields` from each spelling of `provider` in `providers`; an entry left with no value goes. */
function withoutFields(providers: LimitsState["providers"], provider: string, fields: readonly LimitField[]) {
  const result = { ...providers };
  for (const [name, current] of Object.entries(providers)) {
    if (!sameProvider(name, provider)) continue;
    const rest = { ...current };
    for (const field of fields) delete rest[field];
    if (fields.includes("balanceFloor")) delete rest.balanceFloorCurrency;
    if (rest.setAt) {
      const setAt = { ...rest.setAt };
      for (const field of fields) delete setAt[field];
      if (holdsTime(setAt)) rest.setAt = setAt;
      else delete rest.setAt;
    }
    if (LIMIT_FIELDS.some((field) => rest[field] !== undefined) || hasUnknownField(rest, ENTRY_FIELDS))
      result[name] = rest;
    else delete result[name];
  }
  return result;
}

/**
 * `limit` null switches the period (or floor) off even when the config sets it. A period's limit is USD; a floor is
 * in `currency` (USD when not given). The value is kept under `provider` alone: the same field under another
 * spelling of the name (kept by an earlier version) goes.
 */
export function setLimitOperation(
  provider: string,
  field: LimitField,
  limit: number | null,
  at: number,
  currency: string = USD,
) {
  return (state: LimitsState): LimitsState => {
    const providers = withoutFields(state.providers, provider, [field]);
    return stateWith(
      state,
      {
        ...providers,
        [provider]: {
          ...providers[provider],
          [field]: limit,
          ...(field === "balanceFloor" && limit !== null && currency !== USD ? { balanceFloorCurrency: currency } : {}),
          updatedAt: at,
          setAt: { ...providers[provider]?.setAt, [field]: at },
        },
      },
      withClears(state, provider, [field]),
    );
  };
}

/**
 * Removes command-set values: one field, or both periods of the provider when `field` is undefined (`budget clear
 * <provider>`; a command-set balance floor stays: `balance floor <provider> clear` removes it). The fields' clear time
 * is kept: a value set on a machine before `at` is older than the clear, and `state push` does not bring it back.
 */
export function clearLimitOperation(provider: string, field: LimitField | undefined, at: number) {
  return (state: LimitsState): LimitsState => {
    const fields = field ? [field] : BUDGET_PERIODS;
    return stateWith(state, withoutFields(state.providers, provider, fields), withClears(state, provider, fields, at));
  };
}

/** What `state push` of the limits did: the providers whose values went in, and the fields the team cleared later. */
export interface LimitsPush {
  state: LimitsState;
  pushed: string[];
  clearedLater: { provider: string; fields: LimitField[] }[];
}

/** When `entry`'s `field` was set: its own time, else (a store written before per-field times) the entry's latest. */
const setTimeOf = (entry: StoredLimits, field: LimitField): number | undefined =>
  entry.setAt?.[field] ?? entry.updatedAt;

/**
 * `state push` of command-set limits into the team's, field by field (a period's limit, the balance floor): a field
 * the team holds no value for gets this machine's; one it holds gets this machine's when set later than the team's
 * (by each field's set time; a store written before those were kept compares its entry's latest). A value without a
 * set time is not compared: the team's stays. A field the team cleared no earlier than this machine set it stays
 * cleared (`clearedLater`); one set after the clear goes in, and its clear time goes. `pushed` names the providers
 * whose limits went in.
 */
export function pushLimits(team: LimitsState, local: LimitsState): LimitsPush {
  const providers = { ...team.providers };
  let cleared: Clears = team.cleared ?? {};
  const pushed: string[] = [];
  const clearedLater: LimitsPush["clearedLater"] = [];
  for (const [name, limits] of Object.entries(local.providers)) {
    const held = Object.entries(team.providers)
      .filter(([other]) => sameProvider(other, name))
      .map(([, other]) => other);
    const newer = LIMIT_FIELDS.filter((field) => {
      if (limits[field] === undefined) return false;
      const at = setTimeOf(limits, field);
      const holders = held.filter((other) => other[field] !== undefined);
      return (
        holders.length === 0 ||
        (at !== undefined &&
          holders.every((other) => {
            const theirs = setTimeOf(other, field);
            return theirs !== undefined && theirs < at;
          }))
      );
    });
    const clearedSince = newer.filter((field) => {
      const at = clearedAtOf(team, name, field);
      const set = setTimeOf(limits, field);
      return at !== undefined && (set === undefined || at >= set);
    });
    if (clearedSince.length > 0) clearedLater.push({ provider: name, fields: clearedSince });
    const kept = newer.filter((field) => !clearedSince.includes(field));
    if (kept.length === 0) continue;
    const entry: StoredLimits = { ...providers[name] };
    const setAt = { ...entry.setAt };
    for (const field of kept) {
      entry[field] = limits[field];
      if (field === "balanceFloor") {
        if (limits.balanceFloorCurrency !== undefined) entry.balanceFloorCurrency = limits.balanceFloorCurrency;
        else delete entry.balanceFloorCurrency;
      }
      // The field's own time goes with it; without one, the entry's latest stands for it (as it did here).
      const own = limits.setAt?.[field];
      if (own !== undefined) setAt[field] = own;
      else delete setAt[field];
      const at = setTimeOf(limits, field);
      if (at !== undefined) entry.updatedAt = Math.max(entry.updatedAt ?? at, at);
    }
    if (holdsTime(setAt)) entry.setAt = setAt;
    else delete entry.setAt;
    providers[name] = entry;
    cleared = withClears({ ...team, cleared }, name, kept);
    pushed.push(name);
  }
  return { state: pushed.length === 0 ? team : stateWith(team, providers, cleared), pushed, clearedLater };
}

export type LimitSource = "config" | "command";
export interface EffectiveLimit {
  /** USD for a period's limit; a balance floor's is in `currency`. */
  amount: number;
  /** A balance floor's currency when it is not USD. */
  currency?: string;
  source: LimitSource;
  /** A command-set limit's: the config's value for the same period (or floor), which it overrides. */
  overrides?: FloorAmount;
}
export interface EffectiveLimits {
  daily?: EffectiveLimit;
  monthly?: EffectiveLimit;
  balanceFloor?: EffectiveLimit;
}

type Limits = Partial<Record<BudgetPeriod | "balanceFloor", number | null>> & { balanceFloorCurrency?: string };

/** The config's limits with its floor as an amount and a currency (the routes file may write `"30 CNY"`). */
function configLimits(limits: NonNullable<BudgetsConfig["providers"]>[string]): Limits {
  const { balanceFloor, ...periods } = limits;
  if (balanceFloor === undefined) return periods;
  const floor = floorOf(balanceFloor);
  return {
    ...periods,
    balanceFloor: floor.amount,
    ...(floor.currency !== USD ? { balanceFloorCurrency: floor.currency } : {}),
  };
}

/** One provider's limits from several spellings of its name: each later one's values win (a floor with its currency). */
function mergeLimits(entries: Limits[]): Limits {
  const merged: Limits = {};
  for (const entry of entries)
    for (const field of LIMIT_FIELDS)
      if (entry[field] !== undefined) {
        merged[field] = entry[field];
        if (field === "balanceFloor") merged.balanceFloorCurrency = entry.balanceFloorCurrency;
      }
  return merged;
}

/** `field`'s amount of `limits` (a number there) with its currency when not USD. */
const amountOf = (limits: Limits, field: LimitField, amount: number) =>
  field === "balanceFloor" && limits.balanceFloorCurrency && limits.balanceFloorCurrency !== USD
    ? { amount, currency: limits.balanceFloorCurrency }
    : { amount };

/**
 * The limits that apply per provider after precedence (see the file comment), keyed by the name `accounts` (the
 * providers targets bill to) spell it, else by the name as the config or command first wrote it. Of several spellings,
 * the billed provider's own wins in the config, the latest set by command among command-set values.
 */
export function effectiveLimits(
  config: BudgetsConfig | undefined,
  stored: LimitsState,
  accounts: readonly string[] = [],
): Record<string, EffectiveLimits> {
  const result: Record<string, EffectiveLimits> = {};
  const groups = new Map<string, { name: string; config: [string, Limits][]; command: StoredLimits[] }>();
  const groupOf = (written: string) => {
    const key = written.toLowerCase();
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { name: providerNameIn(accounts, written), config: [], command: [] }));
    return group;
  };
  for (const [name, limits] of Object.entries(config?.providers ?? {}))
    groupOf(name).config.push([name, configLimits(limits)]);
  for (const [name, limits] of Object.entries(stored.providers)) groupOf(name).command.push(limits);
  for (const { name: provider, config: configured, command } of groups.values()) {
    const ownLast = configured.sort(([a], [b]) => Number(a === provider) - Number(b === provider));
    const fromConfig = mergeLimits(ownLast.map(([, limits]) => limits));
    const fromCommand = mergeLimits(command.sort((a, b) => (a.updatedAt ?? 0) - (b.updatedAt ?? 0)));
    const limits: EffectiveLimits = {};
    for (const field of LIMIT_FIELDS) {
      const commandValue = fromCommand[field];
      if (commandValue !== undefined) {
        if (commandValue !== null) {
          const configured = fromConfig[field];
          limits[field] = {
            ...amountOf(fromCommand, field, commandValue),
            source: "command",
            ...(typeof configured === "number"
              ? { overrides: { currency: USD, ...amountOf(fromConfig, field, configured) } }
              : {}),
          };
        }
      } else if (typeof fromConfig[field] === "number") {
        limits[field] = { ...amountOf(fromConfig, field, fromConfig[field]), source: "config" };
      }
    }
    if (limits.daily || limits.monthly || limits.balanceFloor) result[provider] = limits;
  }
  return result;
}

/**
 * A limit (or floor) switched off by command (`budget set <provider> off`, `balance floor <provider> off`): the
 * config's value it overrides, if any; undefined when no command switched `provider`'s `field` off (the latest
 * command-set value of any spelling decides).
 */
export function switchedOff(
  config: BudgetsConfig | undefined,
  stored: LimitsState,
  provider: string,
  field: LimitField,
): { config?: FloorAmount } | undefined {
  const command = Object.entries(stored.providers)
    .filter(([name]) => sameProvider(name, provider))
    .map(([, limits]) => limits)
    .sort((a, b) => (a.updatedAt ?? 0) - (b.updatedAt ?? 0));
  if (mergeLimits(command)[field] !== null) return undefined;
  const configured = Object.entries(config?.providers ?? {})
    .filter(([name]) => sameProvider(name, provider))
    .sort(([a], [b]) => Number(a === provider) - Number(b === provider));
  const merged = mergeLimits(configured.map(([, limits]) => configLimits(limits)));
  const amount = merged[field];
  return typeof amount === "number"
    ? { config: { amount, currency: (field === "balanceFloor" && merged.balanceFloorCurrency) || USD } }
    : {};
}
