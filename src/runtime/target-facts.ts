// What pi's model registry says about every configured target, collected at most once per FACTS_REUSE_MS, with the
// providers whose credentials did not resolve marked "no credentials" until they are checked again.
import type { RouterConfig } from "../config/schema.ts";
import type { Candidate, ModelFacts } from "../routing/types.ts";
import { catalogueRegistry } from "./model-catalogue.ts";
import { withModelLookupCache } from "./model-lookup.ts";
import { collectModelFacts } from "./snapshot.ts";
import type { RegistryLike } from "./start-target.ts";

/** How long one collection of registry facts serves further requests. */
export const FACTS_REUSE_MS = 1_000;
/** A provider whose credentials could not be resolved is skipped this long, then its key is resolved again. */
export const MISSING_CREDENTIALS_RECHECK_MS = 60_000;

export class TargetFacts {
  /** `beforeSession`: what stands in for pi's registry until a session attaches it (the built-in catalogue). */
  constructor(private readonly beforeSession: RegistryLike = catalogueRegistry) {}

  private registryRef: RegistryLike | undefined;
  private facts: Record<string, ModelFacts> = {};
  /** When `facts` was collected, and from which registry and config: reused within FACTS_REUSE_MS. */
  private source: { registry: RegistryLike | undefined; config: RouterConfig; at: number } | undefined;
  /** Providers whose credentials did not resolve, until when they are skipped for it. */
  private readonly missingCredentials = new Map<string, number>();
  private readonly warnedMissingCredentials = new Set<string>();

  attachRegistry(registry: RegistryLike | undefined): void {
    this.registryRef = registry && withModelLookupCache(registry);
    this.source = undefined;
  }

  registry(): RegistryLike | undefined {
    return this.registryRef;
  }

  /** The facts as of now, collected again regardless of their age (commands show them). */
  current(config: RouterConfig, now: number): Record<string, ModelFacts> {
    this.source = undefined;
    return this.at(config, now);
  }

  /**
   * What the registry says about every configured target. pi's registry finds a model by scanning its ~1,000 models,
   * ~20 us for the built-in routes, so one collection serves the requests of the next second (a tool-call burst);
   * a login or a models.json edit shows up within that second. Model objects themselves are never kept.
   */
  at(config: RouterConfig, now: number): Record<string, ModelFacts> {
    const source = this.source;
    if (
      source &&
      source.registry === this.registryRef &&
      source.config === config &&
      now - source.at < FACTS_REUSE_MS &&
      now >= source.at
    ) {
      return this.facts;
    }
    this.source = { registry: this.registryRef, config, at: now };
    // Before a session, pi's built-in catalogue still gives each route's real context window and output limit.
    const facts = collectModelFacts(this.registryRef ?? this.beforeSession, config);
    for (const [provider, until] of this.missingCredentials) {
      if (until <= now) {
        this.missingCredentials.delete(provider);
        continue;
      }
      for (const [key, fact] of Object.entries(facts)) {
        if (key.startsWith(`${provider}/`) && fact.resolvable) {
          facts[key] = {
            ...fact,
            hasCredentials: false,
            credentialsProblem: `no credentials: the API key of ${provider} could not be resolved (its models.json apiKey command failed?)`,
          };
        }
      }
    }
    this.facts = facts;
    return facts;
  }

  /** The facts of one target as last collected. */
  get(key: string): ModelFacts | undefined {
    return this.facts[key];
  }

  /** Marks the candidate's provider "no credentials" for a while; returns true the first time for that provider. */
  markMissingCredentials(candidate: Candidate, now: number): boolean {
    this.missingCredentials.set(candidate.provider, now + MISSING_CREDENTIALS_RECHECK_MS);
    this.source = undefined;
    if (this.warnedMissingCredentials.has(candidate.provider)) return false;
    this.warnedMissingCredentials.add(candidate.provider);
    return true;
  }
}
