// Moving averages of time to first token and output speed per target, shared by all pi windows.
import { z } from "zod";
import type { StateStore } from "../state/json-store.ts";

/** Weight of the newest sample: high enough to follow a provider that got slow today, low enough to ignore one blip. */
export const LATENCY_EWMA_WEIGHT = 0.3;

const sampleSchema = z.object({
  ttftMs: z.number().nonnegative(),
  tokensPerSecond: z.number().nonnegative().optional(),
  samples: z.number().int().nonnegative(),
  updatedAt: z.number(),
});
export const latencyStateSchema = z.object({ v: z.literal(1), targets: z.record(z.string(), sampleSchema) });
export type LatencyState = z.infer<typeof latencyStateSchema>;
export type LatencySample = z.infer<typeof sampleSchema>;
export const emptyLatency = (): LatencyState => ({ v: 1, targets: {} });

// The earlier public pi-auto-router used this file name for `{"<provider>": {count, totalMs, lastMs, updatedAt}}`:
// whole-response time per provider (shared/docs/legacy-formats.md). That is neither a time to first token nor per
// target, so it cannot seed these averages; it is recognised (not moved aside as corrupt) and relearned.
const legacyLatencySchema = z.record(z.string(), z.object({ count: z.number(), totalMs: z.number(), lastMs: z.number(), updatedAt: z.number() }));

/** The latency store's parser: our shape, or the earlier implementation's file, which starts ours empty. */
export function parseLatencyState(raw: unknown): LatencyState {
  const ours = latencyStateSchema.safeParse(raw);
  if (ours.success) return ours.data;
  if (legacyLatencySchema.safeParse(raw).success) return emptyLatency();
  throw ours.error;
}

const blend = (previous: number | undefined, sample: number) =>
  previous === undefined ? sample : previous + LATENCY_EWMA_WEIGHT * (sample - previous);

export class LatencyBook {
  constructor(private readonly store: StateStore<LatencyState>) {}

  get(key: string): LatencySample | undefined {
    return this.store.read().targets[key];
  }

  all(): Record<string, LatencySample> {
    return this.store.read().targets;
  }

  record(key: string, ttftMs: number, tokensPerSecond: number | undefined, now: number): void {
    if (!Number.isFinite(ttftMs) || ttftMs < 0) return;
    this.store.update((state) => {
      const previous = state.targets[key];
      const next: LatencySample = {
        ttftMs: blend(previous?.ttftMs, ttftMs),
        samples: (previous?.samples ?? 0) + 1,
        updatedAt: now,
        ...(tokensPerSecond !== undefined && Number.isFinite(tokensPerSecond)
          ? { tokensPerSecond: blend(previous?.tokensPerSecond, tokensPerSecond) }
          : previous?.tokensPerSecond !== undefined ? { tokensPerSecond: previous.tokensPerSecond } : {}),
      };
      return { v: 1, targets: { ...state.targets, [key]: next } };
    });
  }

  clear(): void {
    this.store.update(() => emptyLatency());
  }
}
