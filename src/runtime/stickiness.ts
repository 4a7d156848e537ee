// One decision per user prompt: the target that served a prompt's first turn serves its tool-call turns too (it keeps
// provider caches warm and thinking signatures valid), unless it fails, in which case the next decision stands.
//
// A prompt is recognised by its last user message (its timestamp) in the request's own context, not by
// pi's agent_start event: pi delivers extension events without waiting for them, so an event-based reset could land
// after the next prompt's first call and carry the previous prompt's target over (seen in the soak suite). A caller
// whose messages carry no stable timestamps (the gateway) hands its own identity per request.
//
// Each route remembers several prompts, not only the latest: a gateway serves many clients at once, and one client's
// prompt must not make another's tool-call turns forget their target.
import { RecentMap } from "../recent-map.ts";
import type { Context } from "@mariozechner/pi-ai";
import { isPiSummaryRequest, lastUserText, textOfContent } from "../compat/pi-features.ts";
import { edgesHash } from "../text-hash.ts";
import type { Candidate } from "../routing/types.ts";

/** Characters of each end of a stamped prompt's text that its identity hashes. */
const STAMPED_HASH_CHARS = 64;

/** Prompts remembered at once (each entry is a few short strings). */
export const REMEMBERED_PROMPTS = 1_000;

/**
 * Identity of the prompt a request belongs to: its last user message's timestamp (pi stamps each message when it is
 * made; compaction moves a kept message to another position, and the retry after it is the same prompt), or its
 * position when it has none. Undefined when the context holds no user message, or is pi's own summary request (no
 * prompt of the user's: it takes none of the prompt's shortcuts, intent or target).
 */
export function promptIdentity(context: Context): string | undefined {
  if (isPiSummaryRequest(context)) return undefined;
  const messages = context.messages ?? [];
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as { role?: string; timestamp?: number };
    if (message.role !== "user") continue;
    if (typeof message.timestamp !== "number" || message.timestamp <= 0) return `i${index}`;
    // Two prompts stamped in one millisecond (a frozen clock in tests) are told apart by their text's edges, and the
    // same text sent again within it (a script, a fast machine) by how many earlier user messages carry both.
    const text = lastUserText(context);
    let repeats = 0;
    for (let earlier = index - 1; earlier >= 0; earlier--) {
      const other = messages[earlier] as { role?: string; timestamp?: number; content?: unknown };
      if (other.role === "user" && other.timestamp === message.timestamp && textOfContent(other.content) === text)
        repeats++;
    }
    return `t${message.timestamp}:${text.length}:${edgesHash(text, STAMPED_HASH_CHARS)}${repeats > 0 ? `#${repeats}` : ""}`;
  }
  return undefined;
}

export class Stickiness {
  /** "routeId\nprompt" -> the key of the target that served the prompt. */
  private readonly served = new RecentMap<string, string>(REMEMBERED_PROMPTS);

  remember(routeId: string, prompt: string | undefined, key: string): void {
    if (prompt === undefined) return;
    this.served.set(`${routeId}\n${prompt}`, key);
  }

  stickyKey(routeId: string, prompt: string | undefined): string | undefined {
    return prompt === undefined ? undefined : this.served.get(`${routeId}\n${prompt}`);
  }

  /** Moves this prompt's serving target to the front when it is still a candidate. */
  order(routeId: string, prompt: string | undefined, candidates: Candidate[]): Candidate[] {
    const key = this.stickyKey(routeId, prompt);
    if (!key) return candidates;
    const index = candidates.findIndex((c) => c.key === key);
    if (index <= 0) return candidates;
    return [candidates[index]!, ...candidates.slice(0, index), ...candidates.slice(index + 1)];
  }
}
