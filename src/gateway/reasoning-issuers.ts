// Which provider issued each encrypted reasoning item the gateway passed to a Responses client, and which providers
// refused which issuers' items. OpenAI encrypts a reasoning item for the account (organisation) that made it; a
// stateless client (the Codex CLI) sends every item back on every later turn, so after a failover from account A to
// account B each request to B would be refused (400 `invalid_encrypted_content`) and tried again without the
// reasoning. Once B has refused A's items, a later request to B leaves A's items out before its first try
// (runtime/reasoning-retry.ts). Kept in memory per gateway process, bounded: an item it does not know (issued before a
// restart, or dropped as the least recently used) is sent as before, refused and retried once.
import type { AssistantMessage } from "@mariozechner/pi-ai";
import type { Candidate } from "../routing/types.ts";
import type { ReplayedReasoning, RequestObserver } from "../runtime/route-request.ts";

/** The most items remembered; the least recently issued or sent back is dropped first. */
export const REMEMBERED_REASONING_ITEMS = 10_000;

const pairKey = (issuer: string, target: string) => `${issuer}\n${target}`;

export class ReasoningIssuers {
  /** Item id -> the provider that issued it, least recently used first. */
  private readonly issuerOf = new Map<string, string>();
  /** `issuer \n target` of every provider that refused another's items. */
  private readonly refusedPairs = new Set<string>();

  constructor(private readonly capacity = REMEMBERED_REASONING_ITEMS) {}

  get size(): number {
    return this.issuerOf.size;
  }

  /** `provider` issued these items, which the client now holds. */
  issued(ids: Iterable<string>, provider: string): void {
    for (const id of ids) this.remember(id, provider);
  }

  /** The provider that issued the item, as far as the gateway remembers (the item counts as used again). */
  issuer(id: string): string | undefined {
    const provider = this.issuerOf.get(id);
    if (provider !== undefined) this.remember(id, provider);
    return provider;
  }

  refused(issuer: string, target: string): void {
    if (issuer !== target) this.refusedPairs.add(pairKey(issuer, target));
  }

  hasRefused(issuer: string, target: string): boolean {
    return this.refusedPairs.has(pairKey(issuer, target));
  }

  /** The request's replayed items of known issuers, for the runtime; undefined when it knows none of them. */
  replayed(ids: Iterable<string>): ReplayedReasoning | undefined {
    let issuers: Map<string, string> | undefined;
    for (const id of ids) {
      const issuer = this.issuer(id);
      if (issuer !== undefined) (issuers ??= new Map()).set(id, issuer);
    }
    return issuers && new KnownReasoning(this, issuers);
  }

  private remember(id: string, provider: string): void {
    this.issuerOf.delete(id);
    this.issuerOf.set(id, provider);
    if (this.issuerOf.size > this.capacity) this.issuerOf.delete(this.issuerOf.keys().next().value!);
  }
}

/** One request's replayed items whose issuer is known (id -> provider). */
class KnownReasoning implements ReplayedReasoning {
  constructor(
    private readonly memory: ReasoningIssuers,
    private readonly issuers: ReadonlyMap<string, string>,
  ) {}

  refusedBefore(candidate: Candidate): { ids: ReadonlySet<string>; issuers: string[] } | undefined {
    let ids: Set<string> | undefined;
    const issuers = new Set<string>();
    for (const [id, issuer] of this.issuers) {
      if (!this.memory.hasRefused(issuer, candidate.provider)) continue;
      (ids ??= new Set()).add(id);
      issuers.add(issuer);
    }
    return ids && { ids, issuers: [...issuers] };
  }

  refused(candidate: Candidate): void {
    for (const issuer of new Set(this.issuers.values())) this.memory.refused(issuer, candidate.provider);
  }
}

/**
 * The request's observer, which also remembers the reasoning items each answer served through pi-ai (a translated
 * one) handed the client as its target's provider's (a passthrough answer's are remembered by the passthrough).
 */
export function observingIssuedReasoning(
  observer: RequestObserver,
  memory: ReasoningIssuers,
  issued: (message: AssistantMessage) => string[],
): RequestObserver {
  return {
    ...observer,
    onAttemptResult(candidate, outcome) {
      observer.onAttemptResult?.(candidate, outcome);
      if (outcome.status === "committed" && outcome.message) memory.issued(issued(outcome.message), candidate.provider);
    },
  };
}
