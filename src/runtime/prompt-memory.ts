// What the runtime remembers about the current user prompt across its tool-call turns: the input facts pi's `input`
// event handed over (shortcuts, typed by a person) and the intent its text was classified with.
import { RecentMap } from "../recent-map.ts";
import type { PromptShortcuts, RequestFeatures } from "../routing/types.ts";
import { REMEMBERED_PROMPTS } from "./stickiness.ts";

export interface PendingPrompt {
  shortcuts: PromptShortcuts | undefined;
  interactive: boolean;
}

export interface PromptIntent {
  prompt: string;
  intent: RequestFeatures["intent"];
  confidence: number;
}

export class PromptMemory {
  private pendingPrompt: PendingPrompt | undefined;
  /**
   * The intent of each recent prompt, classified at its first request: its tool-call turns reuse it (the gateway's
   * clients may add other text to those turns, and several clients' prompts interleave).
   */
  private readonly intents = new RecentMap<string, PromptIntent>(REMEMBERED_PROMPTS);
  /** Input facts bound to the prompt they came with (see factsFor). */
  private boundPrompt: { prompt: string; facts: PendingPrompt | undefined } | undefined;
  /** pi summarised the conversation (compaction) since the bound prompt's last request. */
  private summarised = false;

  /**
   * What pi's `input` event knew of the next prompt: its shortcuts, and whether a person typed it (source
   * "interactive"); they apply to every turn of that prompt.
   */
  setPending(shortcuts: PromptShortcuts | undefined, interactive: boolean): void {
    this.pendingPrompt = { shortcuts, interactive };
  }

  /**
   * The input facts of the prompt a request belongs to. Facts from pi's `input` event wait until the first request of
   * a NEW prompt arrives and are bound to it, so every turn of that prompt (tool calls) reuses them and the next
   * prompt starts clean. Keyed by the request's own context, not by agent_start: pi does not wait for extension
   * events, so an event-based hand-over can arrive after the prompt's first request.
   */
  factsFor(prompt: string | undefined): PendingPrompt | undefined {
    if (prompt === undefined) return undefined;
    if (this.boundPrompt?.prompt === prompt) return this.boundPrompt.facts;
    // After pi summarised the conversation, a request with no new input is the prompt pi retries in the compacted
    // context (which may hold it only in the summary): it keeps that prompt's shortcuts.
    const retried = this.summarised && this.pendingPrompt === undefined ? this.boundPrompt?.facts : undefined;
    this.summarised = false;
    this.boundPrompt = { prompt, facts: this.pendingPrompt ?? retried };
    this.pendingPrompt = undefined;
    return this.boundPrompt.facts;
  }

  /** pi's own summary request went by (compaction, a branch summary): see factsFor. */
  noteSummary(): void {
    this.summarised = true;
  }

  /** The intent this prompt was classified with at its first request, if `prompt` is that prompt. */
  knownIntent(prompt: string | undefined): PromptIntent | undefined {
    return prompt === undefined ? undefined : this.intents.get(prompt);
  }

  rememberIntent(intent: PromptIntent): void {
    this.intents.set(intent.prompt, intent);
  }
}
