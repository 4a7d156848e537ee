// pi-ai's assistant event stream -> OpenAI Responses output: the SSE event sequence (response.created ...
// response.completed / response.incomplete / response.failed). Pure: the gateway writes what `push` returns. Each
// pi-ai content block (text, thinking, tool call) becomes one output item; responses-response.ts builds the
// response object the opening and terminal events carry.
import type { AssistantMessage, ToolCall } from "@mariozechner/pi-ai";
import {
  finalStatus,
  type IncompleteReason,
  itemId,
  type OutputItem,
  outputItemsOf,
  type ResponseMeta,
  type ResponseStatus,
  type ResponseTools,
  responseMeta,
  responseObject,
} from "./responses-response.ts";
import { toolCallParts } from "./client-messages.ts";
import { itemEndEvents, type ReasoningParts } from "./responses-item-end.ts";
import type { AnswerEvent } from "./refusal.ts";
import { mayCarryTargetReasoning, type TargetReasoningItem, targetReasoningItem } from "./responses-reasoning.ts";

export interface ResponsesSseEvent {
  type: string;
  [field: string]: unknown;
}

/** A thinking block its target redacted (pi-ai's stand-in text, with the opaque data as its signature). */
const isRedacted = (block: unknown): boolean =>
  (block as { type?: unknown; redacted?: unknown } | undefined)?.type === "thinking" &&
  (block as { redacted?: unknown }).redacted === true;

/** The events that add an output item. */
const ITEM_STARTS: ReadonlySet<string> = new Set(["text_start", "thinking_start", "toolcall_start"]);

/** How an output item ends: `incomplete` when its answer broke off before the item was finished. */
type ItemEnd = "completed" | "incomplete";

export class ResponsesStreamWriter {
  private sequence = 0;
  private readonly items: OutputItem[] = [];
  private readonly itemByContentIndex = new Map<number, number>();
  /** Content indexes of thinking held until it ends (see thinking_start). */
  private readonly heldReasoning = new Set<number>();
  /** Content indexes of redacted thinking, which the client is not sent. */
  private readonly redactedThinking = new Set<number>();
  /**
   * Content indexes of the items added and not yet done. As api.openai.com does, an item is done before the next one
   * is added: pi-ai may end blocks only when the answer ends (its Chat Completions provider does), and then the open
   * one is closed with what it holds so far, and its own end later adds nothing.
   */
  private readonly openItems = new Set<number>();
  /**
   * Content indexes of messages whose text pi-ai ended and that are kept open until the next event: a length stop
   * that follows cuts the last one, which is then done `incomplete` (as the terminal response lists it), not
   * `completed`.
   */
  private readonly endedTexts = new Set<number>();
  /**
   * Events of items that wait for the open function calls to be done. A target may interleave its parallel calls'
   * argument deltas (an OpenAI-compatible server starts both calls in one chunk and finishes the first after the
   * second), and pi-ai ends such blocks only when the answer ends: closing the first call when the second is added
   * would cut its arguments. So an item that starts while a call is open is sent, with its later events, once every
   * open call is done.
   */
  private readonly waiting: AnswerEvent[] = [];
  private readonly waitingIndexes = new Set<number>();

  constructor(private readonly meta: ResponseMeta) {}

  /** The events that open the stream, sent once the router has committed to an answer. */
  open(): ResponsesSseEvent[] {
    const response = this.response("in_progress");
    return [this.event("response.created", { response }), this.event("response.in_progress", { response })];
  }

  push(event: AnswerEvent): ResponsesSseEvent[] {
    if (!("contentIndex" in event)) return [...this.release(), ...this.convert(event)]; // what waits goes first
    const index = event.contentIndex;
    if (this.waitingIndexes.has(index) || (ITEM_STARTS.has(event.type) && this.callOpen())) {
      this.waitingIndexes.add(index);
      this.waiting.push(event);
      return [];
    }
    const events = this.convert(event);
    return this.waiting.length > 0 && !this.callOpen() ? [...events, ...this.release()] : events;
  }

  /** The events that waited, in their order (an item among them may wait again for a call released before it). */
  private release(): ResponsesSseEvent[] {
    const released = this.waiting.splice(0);
    this.waitingIndexes.clear();
    return released.flatMap((event) => this.push(event));
  }

  private callOpen(): boolean {
    for (const contentIndex of this.openItems)
      if (this.items[this.itemByContentIndex.get(contentIndex)!]?.type === "function_call") return true;
    return false;
  }

  private convert(event: AnswerEvent): ResponsesSseEvent[] {
    switch (event.type) {
      case "text_start":
        return this.addItem(
          event.contentIndex,
          { id: this.itemId("msg"), type: "message", status: "in_progress", role: "assistant", content: [] },
          (item, index) => [
            this.event("response.content_part.added", {
              item_id: item.id,
              output_index: index,
              content_index: 0,
              part: { type: "output_text", text: "", annotations: [] },
            }),
          ],
        );
      case "text_delta":
        return this.withOpenItem(event.contentIndex, "message", (item, index) => {
          item.content[0] ??= { type: "output_text", text: "", annotations: [] };
          item.content[0].text += event.delta;
          return [
            this.event("response.output_text.delta", {
              item_id: item.id,
              output_index: index,
              content_index: 0,
              delta: event.delta,
              logprobs: [],
            }),
          ];
        });
      case "text_end":
        // Done at the next event (the next item's start, or the answer's end, which says whether a length stop cut it).
        return this.withOpenItem(event.contentIndex, "message", (item) => {
          item.content[0] = { type: "output_text", text: event.content, annotations: [] };
          this.endedTexts.add(event.contentIndex);
          return [];
        });
      case "thinking_start":
        // Thinking a target redacted is left out, as in a whole answer (outputItemsOf): pi-ai knows it at its start.
        if (isRedacted(event.partial.content[event.contentIndex])) {
          this.redactedThinking.add(event.contentIndex);
          return [];
        }
        // An openai-responses target's reasoning item is only known whole, at its end: it is held until then so
        // that the client's item has the target's id from its first event.
        if (mayCarryTargetReasoning(event.partial.api)) {
          this.heldReasoning.add(event.contentIndex);
          return [];
        }
        return this.startReasoning(event.contentIndex);
      case "thinking_delta":
        if (this.redactedThinking.has(event.contentIndex)) return [];
        return this.reasoningDelta(event.contentIndex, event.delta);
      case "thinking_end": {
        if (this.redactedThinking.delete(event.contentIndex)) return [];
        if (!this.heldReasoning.delete(event.contentIndex)) return this.endReasoning(event.contentIndex, event.content);
        return this.heldReasoningItem(event.contentIndex, event.partial, event.content);
      }
      case "toolcall_start": {
        const block = event.partial.content[event.contentIndex];
        const call = block?.type === "toolCall" ? toolCallParts(block.id) : undefined;
        return this.addItem(
          event.contentIndex,
          {
            // A Responses target's own item id, else one of this response's.
            id: call?.itemId ?? this.itemId("fc"),
            type: "function_call",
            status: "in_progress",
            call_id: call?.callId ?? "",
            name: block?.type === "toolCall" ? block.name : "",
            arguments: "",
          },
          () => [],
        );
      }
      case "toolcall_delta":
        return this.withOpenItem(event.contentIndex, "function_call", (item, index) => {
          item.arguments += event.delta;
          return [
            this.event("response.function_call_arguments.delta", {
              item_id: item.id,
              output_index: index,
              delta: event.delta,
            }),
          ];
        });
      case "toolcall_end":
        return this.endCall(event.contentIndex, event.toolCall);
      case "done": {
        const status = event.reason === "length" ? "incomplete" : "completed";
        const ended = [
          ...this.endAll(event.message, "completed", status === "incomplete"),
          ...this.endHeldReasoning(event.message),
        ];
        const response = this.response(status, event.message);
        return [
          ...ended,
          this.event(status === "incomplete" ? "response.incomplete" : "response.completed", { response }),
        ];
      }
      case "refusal": {
        // A target refused mid-answer: what it wrote stands, its open items end, the response is incomplete.
        const ended = [...this.endAll(event.message), ...this.endHeldReasoning(event.message)];
        const response = this.response("incomplete", event.message, "content_filter");
        return [...ended, this.event("response.incomplete", { response })];
      }
      case "error": {
        // The answer broke off after its commit point: the items still open end `incomplete`, as api.openai.com ends
        // those of a response it could not finish, each done before the response fails (a client that follows items
        // had them in progress for ever). A call keeps the arguments it streamed: pi-ai's parse of them is no call.
        const ended = [...this.endAll(undefined, "incomplete"), ...this.endHeldReasoning(event.error, "incomplete")];
        const response = this.response("failed", event.error);
        return [...ended, this.event("response.failed", { response })];
      }
      default:
        return [];
    }
  }

  /**
   * Held thinking (an openai-responses target's) as one whole item: the target's own when pi-ai has it, else, with
   * nothing the client could send back, the gateway's own, as for another API, all at once.
   */
  private heldReasoningItem(
    contentIndex: number,
    message: AssistantMessage,
    text: string,
    status?: ItemEnd,
  ): ResponsesSseEvent[] {
    const block = message.content[contentIndex];
    const own = block?.type === "thinking" ? targetReasoningItem(block, message.api) : undefined;
    if (own) return this.targetReasoning(own);
    return [
      ...this.startReasoning(contentIndex),
      ...(text ? this.reasoningDelta(contentIndex, text) : []),
      ...this.endReasoning(contentIndex, text, status),
    ];
  }

  /**
   * Held thinking whose end never came before the answer ended: done now with what pi-ai has of it (`incomplete` when
   * the answer broke off), so that the terminal response lists no item the client was not sent.
   */
  private endHeldReasoning(message: AssistantMessage, status?: ItemEnd): ResponsesSseEvent[] {
    const held = [...this.heldReasoning];
    this.heldReasoning.clear();
    return held.flatMap((contentIndex) => {
      const block = message.content[contentIndex];
      return this.heldReasoningItem(contentIndex, message, block?.type === "thinking" ? block.thinking : "", status);
    });
  }

  /** The gateway's own reasoning item for another API's thinking: a summary when the client asked for one. */
  private startReasoning(contentIndex: number): ResponsesSseEvent[] {
    const summary = this.meta.summary;
    return this.addItem(
      contentIndex,
      summary
        ? { id: this.itemId("rs"), type: "reasoning", summary: [] }
        : { id: this.itemId("rs"), type: "reasoning", summary: [], content: [] },
      (item, index) => [
        summary
          ? this.event("response.reasoning_summary_part.added", {
              item_id: item.id,
              output_index: index,
              summary_index: 0,
              part: { type: "summary_text", text: "" },
            })
          : this.event("response.content_part.added", {
              item_id: item.id,
              output_index: index,
              content_index: 0,
              part: { type: "reasoning_text", text: "" },
            }),
      ],
    );
  }

  private reasoningDelta(contentIndex: number, delta: string): ResponsesSseEvent[] {
    return this.withOpenItem(contentIndex, "reasoning", (item, index) => {
      if (this.meta.summary) {
        item.summary[0] ??= { type: "summary_text", text: "" };
        item.summary[0].text += delta;
        return [
          this.event("response.reasoning_summary_text.delta", {
            item_id: item.id,
            output_index: index,
            summary_index: 0,
            delta,
          }),
        ];
      }
      const content = (item.content ??= []);
      content[0] ??= { type: "reasoning_text", text: "" };
      content[0].text += delta;
      return [
        this.event("response.reasoning_text.delta", { item_id: item.id, output_index: index, content_index: 0, delta }),
      ];
    });
  }

  /**
   * `status`: `incomplete` when the answer broke off in the item, which then says so; one that ended carries no
   * status, as api.openai.com's reasoning items (the SDK's type has it optional).
   */
  private endReasoning(contentIndex: number, text: string, status?: ItemEnd): ResponsesSseEvent[] {
    return this.closeItem(contentIndex, "reasoning", (item, index) => {
      if (status === "incomplete") item.status = status;
      if (this.meta.summary) item.summary = [{ type: "summary_text", text }];
      else item.content = [{ type: "reasoning_text", text }];
      const parts = this.meta.summary ? { summary: [{ text }], content: [] } : { summary: [], content: [{ text }] };
      return this.ended(item, index, parts);
    });
  }

  private endMessage(contentIndex: number, text: string, status: ItemEnd = "completed"): ResponsesSseEvent[] {
    return this.closeItem(contentIndex, "message", (item, index) => {
      item.content[0] = { type: "output_text", text, annotations: [] };
      item.status = status;
      return this.ended(item, index);
    });
  }

  /** `toolCall`: pi-ai's finished call; absent when the call is closed early, with the arguments streamed so far. */
  private endCall(contentIndex: number, toolCall?: ToolCall, status: ItemEnd = "completed"): ResponsesSseEvent[] {
    return this.closeItem(contentIndex, "function_call", (item, index) => {
      if (toolCall) {
        item.call_id = toolCallParts(toolCall.id).callId;
        item.name = toolCall.name;
        item.arguments = JSON.stringify(toolCall.arguments ?? {});
      }
      item.status = status;
      return this.ended(item, index);
    });
  }

  /** The events that end an item as it is now (`index`: its output_index), numbered. */
  private ended(item: OutputItem, index: number, reasoning?: ReasoningParts): ResponsesSseEvent[] {
    return itemEndEvents(item, index, reasoning).map(({ type, ...fields }) => this.event(type, fields));
  }

  /**
   * The answer ended: every item still open is done and what waited goes out, each item whole, so that the terminal
   * response lists no item in progress. pi-ai ends no block of an item its target never said was done, and pi
   * 0.73.1's Responses parser follows one item at a time: of two calls a target interleaves, the first never ends.
   * `status`: what the items still open end as (`incomplete` when the answer broke off).
   */
  private endAll(
    message: AssistantMessage | undefined,
    status: ItemEnd = "completed",
    cutLast = false,
  ): ResponsesSseEvent[] {
    const events: ResponsesSseEvent[] = [];
    // Each round adds at least the first event that waited: with no call open, it waits no more.
    while (this.openItems.size > 0 || this.waiting.length > 0)
      events.push(...this.closeOpenItems(message, status, cutLast), ...this.release());
    return events;
  }

  /**
   * Closes the items still open with what they hold, before another is added; at the answer's end (`message`), a
   * call takes the arguments of pi-ai's finished message, as the non-streaming answer does.
   */
  private closeOpenItems(
    message?: AssistantMessage,
    status: ItemEnd = "completed",
    cutLast = false,
  ): ResponsesSseEvent[] {
    const events: ResponsesSseEvent[] = [];
    for (const contentIndex of [...this.openItems]) {
      const index = this.itemByContentIndex.get(contentIndex)!;
      const item = this.items[index];
      // A length stop cuts the last item when it is a message (responseObject marks it so); a message whose text
      // ended before an error is whole.
      const messageEnd: ItemEnd =
        cutLast && index === this.items.length - 1
          ? "incomplete"
          : this.endedTexts.has(contentIndex)
            ? "completed"
            : status;
      if (item?.type === "message")
        events.push(...this.endMessage(contentIndex, item.content[0]?.text ?? "", messageEnd));
      else if (item?.type === "reasoning")
        events.push(
          ...this.endReasoning(
            contentIndex,
            (this.meta.summary ? item.summary[0]?.text : item.content?.[0]?.text) ?? "",
            status,
          ),
        );
      else if (item?.type === "function_call") {
        const block = message?.content[contentIndex];
        events.push(...this.endCall(contentIndex, block?.type === "toolCall" ? block : undefined, status));
      }
      this.openItems.delete(contentIndex);
    }
    return events;
  }

  /** A target's whole reasoning item, with the events api.openai.com sends for its summary. */
  private targetReasoning(own: TargetReasoningItem): ResponsesSseEvent[] {
    const closed = this.closeOpenItems();
    const index = this.items.push(own) - 1;
    const opened = { ...structuredClone(own), summary: [] };
    return [
      ...closed,
      this.event("response.output_item.added", { output_index: index, item: opened }),
      ...own.summary.flatMap((part, summaryIndex) => {
        const at = { item_id: own.id, output_index: index, summary_index: summaryIndex };
        return [
          this.event("response.reasoning_summary_part.added", { ...at, part: { type: "summary_text", text: "" } }),
          this.event("response.reasoning_summary_text.delta", { ...at, delta: part.text }),
          this.event("response.reasoning_summary_text.done", { ...at, text: part.text }),
          this.event("response.reasoning_summary_part.done", { ...at, part }),
        ];
      }),
      this.event("response.output_item.done", { output_index: index, item: own }),
    ];
  }

  /** The non-streaming answer: the same object the stream's terminal event carries. */
  final(message: AssistantMessage): Record<string, unknown> {
    return this.response(finalStatus(message), message);
  }

  /** Streamed items as sent; without any (nothing was streamed), the final message's. */
  private response(
    status: ResponseStatus,
    message?: AssistantMessage,
    incompleteReason?: IncompleteReason,
  ): Record<string, unknown> {
    const output = message && !this.items.length ? outputItemsOf(this.meta, message) : this.items;
    return responseObject(this.meta, status, output, message, incompleteReason);
  }

  private addItem<T extends OutputItem>(
    contentIndex: number,
    item: T,
    then: (item: T, index: number) => ResponsesSseEvent[],
  ): ResponsesSseEvent[] {
    const closed = this.closeOpenItems();
    const index = this.items.push(item) - 1;
    this.itemByContentIndex.set(contentIndex, index);
    this.openItems.add(contentIndex);
    return [
      ...closed,
      this.event("response.output_item.added", { output_index: index, item: structuredClone(item) }),
      ...then(item, index),
    ];
  }

  /** Runs `then` on the open item of this content index and type (a closed one takes no more events). */
  private withOpenItem<T extends OutputItem["type"]>(
    contentIndex: number,
    type: T,
    then: (item: Extract<OutputItem, { type: T }>, index: number) => ResponsesSseEvent[],
  ): ResponsesSseEvent[] {
    if (!this.openItems.has(contentIndex)) return [];
    const index = this.itemByContentIndex.get(contentIndex);
    const item = index === undefined ? undefined : this.items[index];
    return item?.type === type ? then(item as Extract<OutputItem, { type: T }>, index as number) : [];
  }

  /** Runs `then` on the open item and marks it done; an item closed already adds nothing. */
  private closeItem<T extends OutputItem["type"]>(
    contentIndex: number,
    type: T,
    then: (item: Extract<OutputItem, { type: T }>, index: number) => ResponsesSseEvent[],
  ): ResponsesSseEvent[] {
    const events = this.withOpenItem(contentIndex, type, then);
    this.openItems.delete(contentIndex);
    return events;
  }

  private itemId(prefix: string): string {
    return itemId(this.meta, prefix, this.items.length);
  }

  private event(type: string, fields: Record<string, unknown>): ResponsesSseEvent {
    return { type, sequence_number: this.sequence++, ...fields };
  }
}

/** The gateway's encoder: SSE records (`event:` + `data:`) for each pi-ai event, opening the response first. */
export class ResponsesSseEncoder {
  private readonly writer: ResponsesStreamWriter;
  private opened = false;

  constructor(model: string, now: number, summary = false, tools?: ResponseTools) {
    this.writer = new ResponsesStreamWriter(responseMeta(model, now, summary, tools));
  }

  encode(event: AnswerEvent): string {
    const events = this.opened ? [] : this.writer.open();
    this.opened = true;
    events.push(...this.writer.push(event));
    return events.map((record) => `event: ${record.type}\ndata: ${JSON.stringify(record)}\n\n`).join("");
  }
}
