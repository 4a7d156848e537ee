// Keeps the list of configured strategies that silently do nothing (src/config/silent-strategies.ts) current for
// one session, and says each one once: a `warning` event and a notice the first time, the status line and
// /auto-router status for as long as it lasts. Recomputed only when its inputs change, so requests pay a few
// identity checks.
import type { RouterConfig } from "../config/schema.ts";
import { findSilentStrategies, type SilentStrategy } from "../config/silent-strategies.ts";
import type { ModelFacts } from "../routing/types.ts";
import type { QuotaTracker } from "./plugin.ts";

/** Quota sources appear as responses come in; asking the quota plugin once a second is soon enough. */
export const SOURCES_RECHECK_MS = 1_000;

export class SilentStrategyWatch {
  private inputs: { config: RouterConfig; models: Record<string, ModelFacts>; sources: string; at: number } | undefined;
  private current: SilentStrategy[] = [];
  private readonly said = new Set<string>();

  constructor(private readonly report: (finding: SilentStrategy) => void) {}

  update(
    config: RouterConfig,
    models: Record<string, ModelFacts>,
    quotaTracker: QuotaTracker | undefined,
    now: number,
  ): SilentStrategy[] {
    const previous = this.inputs;
    if (
      previous &&
      previous.config === config &&
      previous.models === models &&
      now >= previous.at &&
      now - previous.at < SOURCES_RECHECK_MS
    )
      return this.current;
    const quota = quotaTracker?.quotaSources(now);
    const sources = quota ? `${quota.enabled}|${quota.hard}|${quota.providers.join(",")}` : "";
    const last = this.inputs;
    this.inputs = { config, models, sources, at: now };
    if (last && last.config === config && last.models === models && last.sources === sources) return this.current;
    this.current = findSilentStrategies({
      config,
      models,
      quotaPacing: { enabled: quota?.enabled ?? false, hard: quota?.hard ?? false },
      quotaSources: new Set(quota?.providers ?? []),
    });
    for (const finding of this.current) {
      if (this.said.has(finding.code)) continue;
      this.said.add(finding.code);
      this.report(finding);
    }
    return this.current;
  }

  /** A response came in (its headers may be a quota source now): the next update asks the quota plugin again. */
  recheckSources(): void {
    if (this.inputs) this.inputs = { ...this.inputs, at: Number.NEGATIVE_INFINITY };
  }

  findings(): SilentStrategy[] {
    return this.current;
  }
}
