// The earlier public pi-auto-router used our latency file's name for `{"<provider>": {count, totalMs, lastMs,
// updatedAt}}`: whole-response time per provider (shared/docs/legacy-formats.md). It is carried over as each
// provider's average and stands in for the first-token time of that provider's targets until one of them has a
// measurement of its own: a provider that was slow before still ranks after a fast one on a latency route, and the first
// own sample replaces it. An entry that cannot be read is left out and named (in the old file's terms), every other
// one is carried over, as the other state files keep their readable entries. An entry of `count: 0` is no data, as it
// was to the earlier router: skipped without a word.
import { z } from "zod";
import { issueLines } from "../config/zod-issue-text.ts";
import { isObject } from "../is-object.ts";
import { lazy } from "../lazy.ts";
import {
  keptOrThrow,
  legacyMarker,
  withoutDropped,
  type LegacyConverted,
  type LegacyFormat,
} from "../state/legacy-import.ts";
import { contentProblem } from "../state/state-file.ts";
import { salvageRecords } from "../state/salvage.ts";
import { MAX_STATE_DURATION_MS } from "../state/state-numbers.ts";
import { emptyLatency, latencyStateSchema, providerOf, type LatencyState } from "./latency-book.ts";

const COUNT = "expected a whole number of requests, 1 or more";
const TOTAL = "expected milliseconds, 0 or more";
const entrySchema = lazy(() =>
  z
    .object(
      {
        count: z.number({ error: COUNT }).int({ error: COUNT }).positive({ error: COUNT }),
        totalMs: z.number({ error: TOTAL }).nonnegative({ error: TOTAL }),
        lastMs: z.number({ error: "expected milliseconds" }),
        updatedAt: z.number({ error: "expected a time in epoch milliseconds" }),
      },
      { error: "expected an object {count, totalMs, lastMs, updatedAt}" },
    )
    .refine((entry) => entry.totalMs / entry.count <= MAX_STATE_DURATION_MS, {
      // An average no request takes (a hand edit) would rank the provider last for good (state-numbers.ts).
      error: `expected an average (totalMs / count) of at most ${MAX_STATE_DURATION_MS} ms`,
      path: ["totalMs"],
    }),
);

/** Our shape has `v`; an object without it is the earlier router's map of providers. */
const isOurs = (raw: unknown): boolean => isObject(raw) && "v" in raw;

/** The old file's readable entries as carried-over averages (marked as imported), and each one left out. */
function readLegacyLatency(raw: unknown): LegacyConverted<LatencyState> {
  // Not an object at all ([1, 2], null): neither this router's shape nor the earlier one's, so both are named.
  if (!isObject(raw))
    throw new Error(
      'expected an object: {"v": 1, "targets": {...}} (or, from the earlier pi-auto-router, providers each {count, totalMs, lastMs, updatedAt})',
    );
  const imported: NonNullable<LatencyState["imported"]> = {};
  const dropped: string[][] = [];
  for (const [provider, value] of Object.entries(raw)) {
    // No request measured yet: the earlier router read it as no data (its average would divide by zero).
    if (isObject(value) && value.count === 0) continue;
    const entry = entrySchema().safeParse(value, { reportInput: true });
    if (!entry.success) dropped.push(issueLines([provider], entry.error));
    else
      imported[provider] = {
        averageMs: entry.data.totalMs / entry.data.count,
        count: entry.data.count,
        updatedAt: entry.data.updatedAt,
      };
  }
  // Converted, not carried over beside: the old file's keys (its providers) are renamed into `imported`, and kept as
  // unknown fields (unknown-fields.ts) they would be there twice.
  const state = { ...emptyLatency(), imported, legacyImports: [legacyMarker(raw)] };
  return keptOrThrow({ state, dropped }, Object.keys(imported).length, "provider's average");
}

/** Our state parsed, or the old file's: one with an entry that cannot be read throws (the store keeps a copy). */
export function parseLatencyState(raw: unknown): LatencyState {
  if (isOurs(raw)) return latencyStateSchema.parse(raw);
  return withoutDropped(readLegacyLatency(raw), "latency file");
}

/** What the store continues from when the file does not parse: every entry that reads, of our shape or the old one. */
export const salvageLatencyState = (raw: unknown): LatencyState =>
  isOurs(raw) ? salvageRecords(latencyStateSchema, emptyLatency)(raw) : readLegacyLatency(raw).state;

/** Adds the carried-over averages of providers `state` has neither measured nor carried over yet. */
function mergeLatency(state: LatencyState, imported: LatencyState): LatencyState {
  const held = new Set([...Object.keys(state.imported ?? {}), ...Object.keys(state.targets).map(providerOf)]);
  const added = Object.entries(imported.imported ?? {}).filter(([provider]) => !held.has(provider));
  return added.length === 0 ? state : { ...state, imported: { ...state.imported, ...Object.fromEntries(added) } };
}

export const legacyLatencyFormat: LegacyFormat<LatencyState> = {
  convert(raw) {
    if (!isOurs(raw)) return readLegacyLatency(raw);
    const ours = latencyStateSchema.safeParse(raw);
    if (ours.success) return undefined;
    throw new Error(contentProblem(ours.error));
  },
  merge: mergeLatency,
};
