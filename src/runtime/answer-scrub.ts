// A target's answer without the credentials the router knows (its own key among them, remembered when its attempt
// resolved it): an upstream that echoes its request (a debug or echo endpoint, a misbehaving proxy) would otherwise
// show the operator's key in pi's output, its session file and RPC events, or hand it to a gateway client. Every
// event of an attempt passes through here on its way out, pi's and the gateway's alike (attempt-target.ts).
//
// The deltas are scrubbed per content block as one text: a credential split across two deltas (a model streams a few
// characters at a time) is in neither. What could begin a credential waits for the block's next delta and goes out
// before the block's end (or the answer's, when it breaks off). The partial message every event carries shows each
// block as its deltas went out, in a copy of the router's own: pi-ai changes its own message in place and reads ahead
// of the events it has handed out, and pi may serialise a partial later (JSON and RPC output), so the target's own
// would show text not yet scanned. The final message is scrubbed whole, so what pi shows, serialises and saves holds
// no credential.
import {
  type AssistantMessage,
  type AssistantMessageEvent,
  parseStreamingJson,
  type ToolCall,
} from "@mariozechner/pi-ai";
import { TextScrub } from "../state/secret-scan.ts";

type Content = AssistantMessage["content"];
type Block = Content[number];
type DeltaEvent = Extract<AssistantMessageEvent, { delta: string }>;

/** One content block's scrub, its text as its deltas went out (a tool call's: its arguments' JSON) and how it ended. */
interface BlockState {
  readonly scrub: TextScrub;
  readonly type: DeltaEvent["type"];
  shown: string;
  /** A tool call, once it has ended: as it went out, and the target's own it was scrubbed from. */
  ended?: ToolCall;
  endedFrom?: ToolCall;
}

/** A streaming tool call as pi-ai keeps it: the JSON of its arguments so far beside them (by provider). */
type StreamingToolCall = ToolCall & { partialJson?: string; partialArgs?: string };

/** A tool call's arguments (and the partial JSON a provider keeps beside them) with each credential replaced. */
function scrubbedToolCall(call: ToolCall, secrets: readonly string[]): ToolCall {
  const json = JSON.stringify(call);
  const scrubbed = TextScrub.all(json, secrets);
  return scrubbed === json ? call : (JSON.parse(scrubbed) as ToolCall);
}

export class AnswerScrub {
  private readonly blocks = new Map<number, BlockState>();
  /** The content partial messages show (content()). */
  private readonly shown: Block[] = [];

  /** `secrets` longest first, so a longer value wins over one it contains (remembered-credentials.ts). */
  constructor(private readonly secrets: readonly string[]) {}

  /**
   * Hands `emit` the events to forward for `event`: a delta scrubbed (none when all of it waits; the event itself when
   * nothing changed), before a block's or the answer's end what waited, and an end or a final message scrubbed.
   */
  pass(event: AssistantMessageEvent, emit: (event: AssistantMessageEvent) => void): void {
    switch (event.type) {
      case "text_delta":
      case "thinking_delta":
      case "toolcall_delta": {
        const block = this.block(event.contentIndex, event.type);
        const delta = block.scrub.take(event.delta);
        block.shown += delta;
        // A delta that all waits goes out with the next (an empty one the target sent goes on as it is).
        if (delta !== "" || event.delta === "") emit(delta === event.delta ? event : { ...event, delta });
        return;
      }
      case "text_end":
      case "thinking_end": {
        this.flush(event.contentIndex, event.partial, emit);
        const state = this.block(event.contentIndex, event.type === "text_end" ? "text_delta" : "thinking_delta");
        const content = this.scrubbed(event.content, state);
        // The block as it ended (also one whose text came in no delta).
        state.shown = content;
        return emit(content === event.content ? event : { ...event, content });
      }
      case "toolcall_end": {
        this.flush(event.contentIndex, event.partial, emit);
        const toolCall = scrubbedToolCall(event.toolCall, this.secrets);
        const state = this.block(event.contentIndex, "toolcall_delta");
        state.ended = toolCall;
        state.endedFrom = event.toolCall;
        return emit(toolCall === event.toolCall ? event : { ...event, toolCall });
      }
      case "done": {
        this.flushAll(event.message, emit);
        const message = this.scrubbedMessage(event.message);
        return emit(message === event.message ? event : { ...event, message });
      }
      case "error": {
        this.flushAll(event.error, emit);
        const error = this.scrubbedMessage(event.error);
        return emit(error === event.error ? event : { ...event, error });
      }
      default:
        emit(event);
    }
  }

  /**
   * The content a partial message shows: each block as its deltas went out, in the router's own copy (an event can
   * be forwarded after its target added to the block, and pi may serialise it later still), a tool call with its
   * credentials replaced. The copy is kept up to date in place, as pi-ai keeps its own: it never holds a credential.
   */
  content(content: Content): Content {
    const shown = this.shown;
    for (let index = 0; index < content.length; index++)
      shown[index] = this.view(content[index]!, shown[index], this.blocks.get(index));
    shown.length = content.length;
    return shown;
  }

  private view(block: Block, previous: Block | undefined, state: BlockState | undefined): Block {
    const shown = state?.shown ?? "";
    if (block.type === "text") {
      const view = previous?.type === "text" ? Object.assign(previous, block) : { ...block };
      view.text = shown;
      return view;
    }
    if (block.type === "thinking") {
      const view = previous?.type === "thinking" ? Object.assign(previous, block) : { ...block };
      view.thinking = shown;
      return view;
    }
    if (block.type !== "toolCall") return block;
    if (state?.ended) return state.ended;
    const { partialJson, partialArgs, ...call } = block as StreamingToolCall;
    const json = partialJson ?? partialArgs;
    // Its arguments as the target's JSON parsed them, when that JSON is what went out; else parsed from what did.
    const same = json !== undefined && json.length === shown.length && !(state && this.differs(state));
    return { ...call, arguments: same ? block.arguments : parseStreamingJson(shown) };
  }

  /**
   * A block's whole text with each credential replaced: as its deltas went out when they were all of it (scanned
   * already), else scanned now (text that came in no delta, or a final message read ahead of them).
   */
  private scrubbed(text: string, state: BlockState | undefined): string {
    if (state && !this.differs(state) && state.shown.length === text.length) return text;
    return TextScrub.all(text, this.secrets);
  }

  /** A block with each credential in it replaced (the block itself when it holds none). */
  private scrubbedBlock(block: Block, state: BlockState | undefined): Block {
    if (block.type === "text") {
      const text = this.scrubbed(block.text, state);
      return text === block.text ? block : { ...block, text };
    }
    if (block.type === "thinking") {
      const thinking = this.scrubbed(block.thinking, state);
      return thinking === block.thinking ? block : { ...block, thinking };
    }
    // pi-ai's final message holds the very block its tool call's end handed out: scanned then.
    if (block.type === "toolCall")
      return state?.ended && state.endedFrom === block ? state.ended : scrubbedToolCall(block, this.secrets);
    return block;
  }

  /** A final message with each credential in its content replaced (the message itself when it holds none). */
  private scrubbedMessage(message: AssistantMessage): AssistantMessage {
    if (!Array.isArray(message.content)) return message;
    let content: Content | undefined;
    message.content.forEach((block, index) => {
      const scrubbed = this.scrubbedBlock(block, this.blocks.get(index));
      if (scrubbed === block) return;
      content ??= [...message.content];
      content[index] = scrubbed;
    });
    return content ? { ...message, content } : message;
  }

  /** Shown otherwise than the target sent it: a credential replaced, or the start of one waiting. */
  private differs(block: BlockState): boolean {
    return block.scrub.replaced || block.scrub.holding;
  }

  private block(contentIndex: number, type: DeltaEvent["type"]): BlockState {
    let block = this.blocks.get(contentIndex);
    if (!block) {
      block = { scrub: new TextScrub(this.secrets), type, shown: "" };
      this.blocks.set(contentIndex, block);
    }
    return block;
  }

  /** What a block's scrub still holds, as one more delta of its kind (no part of a credential: it never came whole). */
  private flush(contentIndex: number, partial: AssistantMessage, emit: (event: AssistantMessageEvent) => void): void {
    const block = this.blocks.get(contentIndex);
    if (!block?.scrub.holding) return;
    const delta = block.scrub.end();
    block.shown += delta;
    emit({ type: block.type, contentIndex, delta, partial } as DeltaEvent);
  }

  private flushAll(message: AssistantMessage, emit: (event: AssistantMessageEvent) => void): void {
    for (const index of this.blocks.keys()) this.flush(index, message, emit);
  }
}
