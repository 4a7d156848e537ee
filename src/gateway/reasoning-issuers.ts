// Which provider issued each encrypted reasoning item the gateway handed a Responses client, and which providers
// refused which issuers' items. OpenAI encrypts a reasoning item for the account (organisation) that made it; a
// stateless client (the Codex CLI) sends every item back on every later turn, so after a failover from account A to
// account B each request to B would be refused (400 `invalid_encrypted_content`) and tried again without the
// reasoning. Once B has refused A's items, a later request to B leaves A's items out before its first try
// (runtime/reasoning-retry.ts). Items are known by a hash of their encrypted content (reasoning-key.ts), the one part
// every client sends back. Kept in memory per gateway process, bounded: an item it does not know (issued before a
// restart, or dropped as the least recently used) is sent as before, refused and retried once.
import type { AssistantMessage } from "@mariozechner/pi-ai";
import type { Candidate } from "../routing/types.ts";
import { reasoningKey } from "../runtime/reasoning-key.ts";
import type { ReplayedReasoning, RequestObserver } from "../runtime/route-request.ts";

/** The most items remembered; the least recently issued or sent back is dropped first. */
export const REMEMBERED_REASONING_ITEMS = 10_000;

const pairKey = (issuer: string, target: string) => `${issuer}\n${target}`;

export class ReasoningIssuers {
  /** Item key -> the provider that issued it, least recently used first. */
  private readonly issuerOf = new Map<string, string>();
  /** `issuer \n target` of every provider that refused another's items. */
  private readonly refusedPairs = new Set<string>();
  /** The providers that refused any other's items: a request to another one needs no look-up at all. */
  private readonly refusing = new Set<string>();

  constructor(private readonly capacity = REMEMBERED_REASONING_ITEMS) {}

  get size(): number {
    return this.issuerOf.size;
  }

  /** `provider` issued the items of this encrypted content, which the client now holds. */
  issued(encryptedContents: Iterable<string>, provider: string): void {
    for (const content of encryptedContents) this.remember(reasoningKey(content), provider);
  }

  /** The provider that issued the item of this key, as far as the gateway remembers (it counts as used again). */
  issuer(key: string): string | undefined {
    const provider = this.issuerOf.get(key);
    if (provider !== undefined) this.remember(key, provider);
    return provider;
  }

  refused(issuer: string, target: string): void {
    if (issuer === target) return;
    this.refusedPairs.add(pairKey(issuer, target));
    this.refusing.add(target);
  }

  hasRefused(issuer: string, target: string): boolean {
    return this.refusedPairs.has(pairKey(issuer, target));
  }

  refusedAny(target: string): boolean {
    return this.refusing.has(target);
  }

  /**
   * One request's replayed items (their encrypted content, read only when needed): their issuers are looked up only
   * for a target that refused some provider's items before, or once a target refuses them.
   */
  forRequest(encryptedContents: () => string[]): ReplayedReasoning {
    return new RequestReasoning(this, encryptedContents);
  }

  private remember(key: string, provider: string): void {
    this.issuerOf.delete(key);
    this.issuerOf.set(key, provider);
    if (this.issuerOf.size > this.capacity) this.issuerOf.delete(this.issuerOf.keys().next().value!);
  }
}

/** One request's replayed items, with the issuer of each the gateway knows (key -> provider), found once. */
class RequestReasoning implements ReplayedReasoning {
  private issuers?: Map<string, string>;

  constructor(
    private readonly memory: ReasoningIssuers,
    private readonly encryptedContents: () => string[],
  ) {}

  refusedBefore(candidate: Candidate): { keys: ReadonlySet<string>; issuers: string[] } | undefined {
    if (!this.memory.refusedAny(candidate.provider)) return undefined;
    let keys: Set<string> | undefined;
    const issuers = new Set<string>();
    for (const [key, issuer] of this.known()) {
      if (!this.memory.hasRefused(issuer, candidate.provider)) continue;
      (keys ??= new Set()).add(key);
      issuers.add(issuer);
    }
    return keys && { keys, issuers: [...issuers] };
  }

  refused(candidate: Candidate): void {
    for (const issuer of new Set(this.known().values())) this.memory.refused(issuer, candidate.provider);
  }

  private known(): Map<string, string> {
    if (this.issuers) return this.issuers;
    this.issuers = new Map();
    for (const content of this.encryptedContents()) {
      const key = reasoningKey(content);
      const issuer = this.memory.issuer(key);
      if (issuer !== undefined) this.issuers.set(key, issuer);
    }
    return this.issuers;
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
