// The events that end an OpenAI Responses output item: a message's text (or refusal) and content part done, a function call's
// arguments done, a custom tool's call's input done, a reasoning item's summary and reasoning text parts done (those
// its events had not done yet), then response.output_item.done. One builder for the translating writer (responses-stream.ts), which ends each item it
// made, and the passthrough (passthrough-responses.ts), which ends the item its target had not finished when the
// answer broke off. Unnumbered: each caller numbers them after the events the client got.

type Loose = Record<string, any>;

export interface ItemEndEvent {
  type: string;
  [field: string]: unknown;
}

/** A reasoning item's summary or content part as its events streamed it, and which of its done events came. */
export interface ReasoningPart {
  text: string;
  textDone?: boolean;
  partDone?: boolean;
}

/** The summary and content (reasoning text) parts of a reasoning item, by their index. */
export interface ReasoningParts {
  summary: ReasoningPart[];
  content: ReasoningPart[];
}

/** A reasoning item's events, by the list of parts each names: its index field, its done events, its part type. */
export const REASONING_PART = {
  summary: {
    index: "summary_index",
    textDone: "response.reasoning_summary_text.done",
    partDone: "response.reasoning_summary_part.done",
    type: "summary_text",
  },
  content: {
    index: "content_index",
    textDone: "response.reasoning_text.done",
    partDone: "response.content_part.done",
    type: "reasoning_text",
  },
} as const;

/** The done events of a reasoning item's parts not done yet (its summary's, then its reasoning text's). */
function reasoningEndEvents(item: Loose, at: number, reasoning: ReasoningParts | undefined): ItemEndEvent[] {
  return (["summary", "content"] as const).flatMap((kind) => {
    const end = REASONING_PART[kind];
    return (reasoning?.[kind] ?? []).flatMap(({ text, textDone, partDone }, index) => {
      if (partDone) return [];
      const where = { item_id: item.id, output_index: at, [end.index]: index };
      const partEnd = { type: end.partDone, ...where, part: { type: end.type, text } };
      return textDone ? [partEnd] : [{ type: end.textDone, ...where, text }, partEnd];
    });
  });
}

/**
 * The events that end `item` (`at`: its output_index) as it is now: its status, a message's text (its first content
 * part), a call's name and arguments and a custom tool's call's input are the caller's to set first. A reasoning item's parts are `reasoning`'s.
 */
export function itemEndEvents(item: Loose, at: number, reasoning?: ReasoningParts): ItemEndEvent[] {
  const done = { type: "response.output_item.done", output_index: at, item };
  if (item.type === "reasoning") return [...reasoningEndEvents(item, at, reasoning), done];
  if (item.type === "function_call")
    return [
      {
        type: "response.function_call_arguments.done",
        item_id: item.id,
        output_index: at,
        name: item.name,
        arguments: item.arguments,
      },
      done,
    ];
  if (item.type === "custom_tool_call")
    return [
      { type: "response.custom_tool_call_input.done", item_id: item.id, output_index: at, input: item.input },
      done,
    ];
  const part = item.type === "message" ? item.content?.[0] : undefined;
  if (!part) return [done];
  const where = { item_id: item.id, output_index: at, content_index: 0 };
  return [
    part.type === "refusal"
      ? { type: "response.refusal.done", ...where, refusal: part.refusal }
      : { type: "response.output_text.done", ...where, text: part.text, logprobs: [] },
    { type: "response.content_part.done", ...where, part },
    done,
  ];
}
