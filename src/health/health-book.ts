// The health record of every provider, over one store: its schema, how a check changes it (the rule is in
// health-plugin.ts), and the book the plugin, the probe and `/auto-router health` read.
import { z } from "zod";
import { readBounded } from "../state/bounded-entries.ts";
import { stateCount, stateTime } from "../state/state-numbers.ts";
import { stateObject, unknownFieldsOf } from "../state/unknown-fields.ts";
import type { FailureKind } from "../runtime/classify-failure.ts";
import type { AttemptObservation } from "../runtime/plugin.ts";
import type { ProviderStatus } from "../routing/types.ts";
import type { StateStore } from "../state/json-store.ts";
import { redactText } from "../state/redact.ts";

export interface ProbeResult {
  ok: boolean;
  /** HTTP status of the target's response, when the provider's SDK reported one. */
  status?: number;
  latencyMs: number;
  error?: string;
  failureKind?: string;
}

export const HEALTH_FAILURE_KINDS: ReadonlySet<FailureKind> = new Set([
  "auth",
  "network",
  "timeout",
  "server",
  "overloaded",
]);
export const UNHEALTHY_AFTER_FAILED_CHECKS = 3;
export const UNHEALTHY_HOLD_MS = 10 * 60_000;

const recordSchema = stateObject({
  failures: stateCount(),
  unhealthySince: stateTime().optional(),
  lastError: z.string().optional(),
  lastErrorAt: stateTime().optional(),
  lastOkAt: stateTime().optional(),
});
export type HealthRecord = z.infer<typeof recordSchema>;
const HEALTH_FIELDS: ReadonlySet<string> = new Set(Object.keys(recordSchema.shape));
export const healthStateSchema = stateObject({ v: z.literal(1), providers: z.record(z.string(), recordSchema) });
export type HealthState = z.infer<typeof healthStateSchema>;
export const emptyHealth = (): HealthState => ({ v: 1, providers: {} });

export type HealthCheck =
  | { type: "ok"; at: number }
  | { type: "failed"; at: number; error: string }
  /** A real request's failure: remembered as the last error, not counted. */
  | { type: "error-seen"; at: number; error: string }
  | { type: "neutral"; at: number };

/** Pure: the provider's record after one check. */
export function reduceHealth(record: HealthRecord | undefined, check: HealthCheck): HealthRecord {
  const current: HealthRecord = record ?? { failures: 0 };
  if (check.type === "neutral") return current;
  if (check.type === "ok") {
    // Back to well: this version's counts start over; what a newer version keeps in the record stays (unknown-fields.ts).
    const next: HealthRecord = { ...unknownFieldsOf(current, HEALTH_FIELDS), failures: 0, lastOkAt: check.at };
    if (current.lastError !== undefined) next.lastError = current.lastError;
    if (current.lastErrorAt !== undefined) next.lastErrorAt = current.lastErrorAt;
    return next;
  }
  if (check.type === "error-seen") return { ...current, lastError: check.error, lastErrorAt: check.at };
  const failures = current.failures + 1;
  const next: HealthRecord = { ...current, failures, lastError: check.error, lastErrorAt: check.at };
  if (failures >= UNHEALTHY_AFTER_FAILED_CHECKS) next.unhealthySince = check.at;
  return next;
}

/** The skip reason while the provider is unhealthy at `now`; undefined otherwise (also once the hold is over). */
export function unhealthyReason(record: HealthRecord | undefined, now: number): string | undefined {
  if (!record?.unhealthySince || record.failures < UNHEALTHY_AFTER_FAILED_CHECKS) return undefined;
  if (now - record.unhealthySince >= UNHEALTHY_HOLD_MS) return undefined;
  return `health: ${record.failures} failed checks in a row${record.lastError ? ` (last: ${record.lastError})` : ""}`;
}

const failedCheck = (at: number, kind: string, message: string): HealthCheck => ({
  type: "failed",
  at,
  error: redactText(`${kind}: ${message}`),
});
const errorSeen = (at: number, kind: string, message: string): HealthCheck => ({
  type: "error-seen",
  at,
  error: redactText(`${kind}: ${message}`),
});

/** What one attempt tells the health of its provider. */
export function healthCheckOf(observation: AttemptObservation): HealthCheck {
  const { outcome, now } = observation;
  if (outcome.status === "aborted") return { type: "neutral", at: now };
  if (outcome.status === "failed") {
    return HEALTH_FAILURE_KINDS.has(outcome.failure.kind)
      ? errorSeen(now, outcome.failure.kind, outcome.failure.message)
      : { type: "neutral", at: now };
  }
  // Committed: the provider answered. An error after the commit point counts only when it says the provider is unwell.
  if (outcome.final !== "error") return { type: "ok", at: now };
  const { failure } = outcome;
  return HEALTH_FAILURE_KINDS.has(failure.kind)
    ? errorSeen(now, failure.kind, failure.message)
    : { type: "ok", at: now };
}

/** What one probe tells: an answer is ok, a failure of a health kind fails, anything else (a rate limit) is neutral. */
export function probeCheckOf(result: ProbeResult, at: number): HealthCheck {
  if (result.ok) return { type: "ok", at };
  const kind = result.failureKind ?? "unknown";
  return HEALTH_FAILURE_KINDS.has(kind as FailureKind)
    ? failedCheck(at, `probe ${kind}`, result.error ?? "")
    : { type: "neutral", at };
}

/**
 * One `--probe` run's check of a provider, from the probes of all its targets: a provider that answered on any target
 * is well; one whose targets failed (in a way that says the provider is unwell) failed ONE check, however many
 * targets it has, so three models failing at once are not three checks in a row.
 */
export function providerCheckOf(results: ProbeResult[], at: number): HealthCheck {
  const checks = results.map((result) => probeCheckOf(result, at));
  return (
    checks.find((check) => check.type === "ok") ??
    checks.find((check) => check.type === "failed") ?? { type: "neutral", at }
  );
}

/** The record with a mark's start no later than `now`; the same object when it is not later. */
export function boundedMark(record: HealthRecord, now: number): HealthRecord {
  return record.unhealthySince !== undefined && record.unhealthySince > now
    ? { ...record, unhealthySince: now }
    : record;
}

export const isMarked = (record: HealthRecord | undefined): boolean =>
  record?.unhealthySince !== undefined && record.failures >= UNHEALTHY_AFTER_FAILED_CHECKS;

/** The health records of every provider, over one store. */
export class HealthBook {
  constructor(
    private readonly store: StateStore<HealthState>,
    private readonly onChange?: (provider: string, from: HealthRecord | undefined, to: HealthRecord) => void,
  ) {}

  record(provider: string, now: number): HealthRecord | undefined {
    return this.providers(now)[provider];
  }

  /**
   * The records, a mark's start bounded (boundedMark) and written back so (bounded-entries.ts): a provider marked by a
   * clock ahead is held UNHEALTHY_HOLD_MS from now at most, not until that clock's time has come.
   */
  private providers(now: number): HealthState["providers"] {
    return readBounded(
      this.store,
      (state) => state.providers,
      (state, providers) => ({ ...state, providers }),
      (record) => boundedMark(record, now),
    );
  }

  apply(provider: string, check: HealthCheck): HealthRecord {
    const before = this.record(provider, check.at);
    // A success on a provider with no failures changes nothing a reader uses: no rewrite of the file per request.
    const clean = !before || (before.failures === 0 && before.unhealthySince === undefined);
    if (check.type === "neutral" || (check.type === "ok" && clean)) return before ?? { failures: 0 };
    this.store.update((state) => ({
      ...state,
      providers: { ...state.providers, [provider]: reduceHealth(state.providers[provider], check) },
    }));
    const after = this.record(provider, check.at)!;
    if (isMarked(before) !== isMarked(after)) this.onChange?.(provider, before, after);
    return after;
  }

  providerStatus(now: number): Record<string, ProviderStatus> {
    const out: Record<string, ProviderStatus> = {};
    for (const [provider, record] of Object.entries(this.providers(now))) {
      const reason = unhealthyReason(record, now);
      if (reason) out[provider] = { unhealthy: reason, unhealthyUntil: record.unhealthySince! + UNHEALTHY_HOLD_MS };
    }
    return out;
  }
}
