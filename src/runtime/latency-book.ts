// Moving averages of time to first token and output speed per target, shared by all pi windows.
import { z } from "zod";
import { stateObject } from "../state/unknown-fields.ts";
import type { StateStore } from "../state/json-store.ts";
import { stateAmount, stateCount, stateDuration, stateTime } from "../state/state-numbers.ts";

/** Weight of the newest sample: high enough to follow a provider that got slow today, low enough to ignore one blip. */
export const LATENCY_EWMA_WEIGHT = 0.3;

// A time no request takes (a hand edit) is damage, not a target to rank last for good (state-numbers.ts).
const sampleSchema = stateObject({
  ttftMs: stateDuration(),
  tokensPerSecond: stateAmount().optional(),
  samples: stateCount(),
  updatedAt: stateTime(),
});
/** A provider's average response time carried over from the earlier pi-auto-router's latency file (legacy-latency.ts). */
const importedSchema = stateObject({
  averageMs: stateDuration(),
  count: stateCount(),
  updatedAt: stateTime(),
});
export const latencyStateSchema = stateObject({
  v: z.literal(1),
  targets: z.record(z.string(), sampleSchema),
  imported: z.record(z.string(), importedSchema).optional(),
  /** The earlier router's latency files already imported (src/state/legacy-import.ts). */
  legacyImports: z.array(z.string()).optional(),
});
export type LatencyState = z.infer<typeof latencyStateSchema>;
export type LatencySample = z.infer<typeof sampleSchema>;
export const emptyLatency = (): LatencyState => ({ v: 1, targets: {} });

export const providerOf = (key: string) => key.slice(0, Math.max(0, key.indexOf("/")));

function importedSample(state: LatencyState, key: string): LatencySample | undefined {
  const imported = state.imported?.[providerOf(key)];
  return imported ? { ttftMs: imported.averageMs, samples: 0, updatedAt: imported.updatedAt } : undefined;
}

const blend = (previous: number | undefined, sample: number) =>
  previous === undefined ? sample : previous + LATENCY_EWMA_WEIGHT * (sample - previous);

export class LatencyBook {
  constructor(private readonly store: StateStore<LatencyState>) {}

  /** The target's own average, else its provider's carried-over one (`samples: 0`). */
  get(key: string): LatencySample | undefined {
    const state = this.store.read();
    return state.targets[key] ?? importedSample(state, key);
  }

  /** Own averages, plus carried-over ones for `keys` without one (only while any are left from the earlier router). */
  all(keys?: () => Iterable<string>): Record<string, LatencySample> {
    const state = this.store.read();
    if (!state.imported || !keys) return state.targets;
    const merged = { ...state.targets };
    for (const key of keys()) {
      const sample = merged[key] ? undefined : importedSample(state, key);
      if (sample) merged[key] = sample;
    }
    return merged;
  }

  record(key: string, ttftMs: number, tokensPerSecond: number | undefined, now: number): void {
    if (!Number.isFinite(ttftMs) || ttftMs < 0) return;
    this.store.update((state) => {
      const previous = state.targets[key];
      // Every field of this version's is set anew or kept below; a newer version's stay as they were.
      const next: LatencySample = {
        ...previous,
        ttftMs: blend(previous?.ttftMs, ttftMs),
        samples: (previous?.samples ?? 0) + 1,
        updatedAt: now,
        ...(tokensPerSecond !== undefined && Number.isFinite(tokensPerSecond)
          ? { tokensPerSecond: blend(previous?.tokensPerSecond, tokensPerSecond) }
          : previous?.tokensPerSecond !== undefined
            ? { tokensPerSecond: previous.tokensPerSecond }
            : {}),
      };
      const provider = providerOf(key);
      if (!state.imported?.[provider]) return { ...state, targets: { ...state.targets, [key]: next } };
      // Measured now: the carried-over average of this provider has done its job, and is removed (only the file's
      // fields this version does not know stay as they were).
      const { imported: _all, ...rest } = state;
      const { [provider]: _done, ...imported } = state.imported;
      return {
        ...rest,
        targets: { ...state.targets, [key]: next },
        ...(Object.keys(imported).length ? { imported } : {}),
      };
    });
  }

  /** Forgets every average; the marks of imported old files stay, so a reset is not undone by importing them again. */
  clear(): void {
    // The file's fields of a newer version stay (unknown-fields.ts): only the averages this version keeps are forgotten.
    this.store.update(({ targets: _targets, imported: _imported, ...kept }) => ({ ...kept, v: 1, targets: {} }));
  }
}
