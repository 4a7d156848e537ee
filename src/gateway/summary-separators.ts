// pi-ai streams an OpenAI Responses target's reasoning summary with a "\n\n" delta after each summary part (at
// `response.reasoning_summary_part.done`), but ends the thinking block with the parts joined by "\n\n" between them
// (at `response.output_item.done`): the last part's separator is in no answer. Streamed as it comes, an Anthropic or
// Chat client would read "Let me think about it.\n\n" where the same answer not streamed says "Let me think about
// it.". A delta that is only that separator waits for the block's next delta (it was between two parts) or the
// block's end, where it goes out only if the block's thinking has it.
import type { AnswerEvent } from "./refusal.ts";

const SEPARATOR = "\n\n";

export class SummarySeparators {
  /** Per thinking block: how many characters went out (its text is the block's own), and a separator waiting. */
  private readonly blocks = new Map<number, { sent: number; held: string }>();

  /** Hands `emit` the events to encode for `event`: a held separator goes out before the block's next delta. */
  pass(event: AnswerEvent, emit: (event: AnswerEvent) => void): void {
    if (event.type === "thinking_delta") {
      let block = this.blocks.get(event.contentIndex);
      if (!block) this.blocks.set(event.contentIndex, (block = { sent: 0, held: "" }));
      if (event.delta === SEPARATOR) {
        block.held += event.delta;
        return;
      }
      this.release(event.contentIndex, event.partial, emit);
      block.sent += event.delta.length;
      return emit(event);
    }
    if (event.type === "thinking_end") {
      const block = this.blocks.get(event.contentIndex);
      // The block ends as streamed so far: the separator after its last part is no part of it.
      if (block && block.sent === event.content.length) block.held = "";
      this.release(event.contentIndex, event.partial, emit);
      this.blocks.delete(event.contentIndex);
    } else if (event.type === "done" || event.type === "error" || event.type === "refusal")
      // The answer ends (or breaks off) inside a block: what it streamed stands, as before.
      for (const index of [...this.blocks.keys()])
        this.release(index, event.type === "error" ? event.error : event.message, emit);
    emit(event);
  }

  /** A held separator as the block's delta. */
  private release(
    contentIndex: number,
    partial: Extract<AnswerEvent, { type: "thinking_delta" }>["partial"],
    emit: (event: AnswerEvent) => void,
  ): void {
    const block = this.blocks.get(contentIndex);
    if (!block || block.held === "") return;
    const delta = block.held;
    block.held = "";
    block.sent += delta.length;
    emit({ type: "thinking_delta", contentIndex, delta, partial });
  }
}
