// Which provider issued each encrypted reasoning item the gateway handed a Responses client, and which providers
// refused which issuers' items. OpenAI encrypts a reasoning item for the account (organisation) that made it; a
// stateless client (the Codex CLI) sends every item back on every later turn, so after a failover from account A to
// account B each request to B would be refused (400 `invalid_encrypted_content`) and tried again without the
// reasoning. Once B has refused A's items, a later request to B leaves A's items out before its first try
// (runtime/reasoning-retry.ts). Items are known by a hash of their encrypted content (reasoning-key.ts), the one part
// every client sends back. Kept in memory per gateway process, bounded. An item whose issuer it does not know (issued
// before a restart, by another gateway of the team, straight by the provider before the client came to the gateway,
// or dropped as the least recently used) is sent as before; when a target refuses a request whose other items it
// could all read (none of a known other issuer's it had not refused before), the unknown items are what it refused:
// they are remembered as refused by that target and left out of its later first tries, so the refusal is paid once,
// not on every later turn of the conversation.
import { RecentMap } from "../recent-map.ts";
import type { AssistantMessage } from "@mariozechner/pi-ai";
import type { Candidate } from "../routing/types.ts";
import { reasoningKey } from "../runtime/reasoning-key.ts";
import type { LeftOutReasoning, ReplayedReasoning, RequestObserver } from "../runtime/route-request.ts";

/** The most items remembered; the least recently issued or sent back is dropped first. */
export const REMEMBERED_REASONING_ITEMS = 10_000;

const pairKey = (issuer: string, target: string) => `${issuer}\n${target}`;

export class ReasoningIssuers {
  /** Item key -> the provider that issued it, least recently used first. */
  private readonly issuerOf: RecentMap<string, string>;
  /** `issuer \n target` of every provider that refused another's items. */
  private readonly refusedPairs = new Set<string>();
  /** The providers that refused any other's items: a request to another one needs no look-up at all. */
  private readonly refusing = new Set<string>();
  /** Item key -> the providers that refused the item, whose issuer is not known. */
  private readonly refusedItems: RecentMap<string, string[]>;

  constructor(capacity = REMEMBERED_REASONING_ITEMS) {
    this.issuerOf = new RecentMap(capacity);
    this.refusedItems = new RecentMap(capacity);
  }

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

  /** `target` refused the item of this key, whose issuer is not known. */
  refusedItem(key: string, target: string): void {
    const refusing = this.refusedItems.get(key) ?? [];
    if (!refusing.includes(target)) this.refusedItems.set(key, [...refusing, target]);
    this.refusing.add(target);
  }

  hasRefusedItem(key: string, target: string): boolean {
    return this.refusedItems.get(key)?.includes(target) === true;
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
    this.issuerOf.set(key, provider);
  }
}

/** One request's replayed items: each one's key and its issuer as far as the gateway knows, found once. */
class RequestReasoning implements ReplayedReasoning {
  private items?: Map<string, string | undefined>;

  constructor(
    private readonly memory: ReasoningIssuers,
    private readonly encryptedContents: () => string[],
  ) {}

  refusedBefore(candidate: Candidate): LeftOutReasoning | undefined {
    const target = candidate.provider;
    if (!this.memory.refusedAny(target)) return undefined;
    let keys: Set<string> | undefined;
    const issuers = new Set<string>();
    let unknownIssuer = 0;
    for (const [key, issuer] of this.known()) {
      if (issuer === undefined ? !this.memory.hasRefusedItem(key, target) : !this.memory.hasRefused(issuer, target))
        continue;
      (keys ??= new Set()).add(key);
      if (issuer === undefined) unknownIssuer += 1;
      else issuers.add(issuer);
    }
    return keys && { keys, issuers: [...issuers], unknownIssuer };
  }

  /**
   * The items of known other issuers it had not refused before are what it refused; when there are none, it is the
   * items of unknown issuers it had not refused before.
   */
  refused(candidate: Candidate): void {
    const target = candidate.provider;
    const foreign = new Set<string>();
    const unknown: string[] = [];
    for (const [key, issuer] of this.known()) {
      if (issuer === undefined) {
        if (!this.memory.hasRefusedItem(key, target)) unknown.push(key);
      } else if (issuer !== target && !this.memory.hasRefused(issuer, target)) foreign.add(issuer);
    }
    if (foreign.size > 0) for (const issuer of foreign) this.memory.refused(issuer, target);
    else for (const key of unknown) this.memory.refusedItem(key, target);
  }

  private known(): Map<string, string | undefined> {
    if (this.items) return this.items;
    this.items = new Map();
    for (const content of this.encryptedContents()) {
      const key = reasoningKey(content);
      this.items.set(key, this.memory.issuer(key));
    }
    return this.items;
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
