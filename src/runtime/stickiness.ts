// One decision per user prompt: the target that served a prompt's first turn serves its tool-call turns too (it keeps
// provider caches warm and thinking signatures valid), unless it fails, in which case the next decision stands.
import type { Candidate } from "../routing/types.ts";

export class Stickiness {
  private epoch = 0;
  private readonly served = new Map<string, { epoch: number; key: string }>();

  /** Called at agent_start: a new user prompt begins. */
  beginPrompt(): void {
    this.epoch += 1;
    this.served.clear();
  }

  remember(routeId: string, key: string): void {
    this.served.set(routeId, { epoch: this.epoch, key });
  }

  stickyKey(routeId: string): string | undefined {
    const entry = this.served.get(routeId);
    return entry && entry.epoch === this.epoch ? entry.key : undefined;
  }

  /** Moves this prompt's serving target to the front when it is still a candidate. */
  order(routeId: string, candidates: Candidate[]): Candidate[] {
    const key = this.stickyKey(routeId);
    if (!key) return candidates;
    const index = candidates.findIndex((c) => c.key === key);
    if (index <= 0) return candidates;
    return [candidates[index]!, ...candidates.slice(0, index), ...candidates.slice(index + 1)];
  }
}
