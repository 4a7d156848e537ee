// A passthrough stream's answer text is the string values of many events (Anthropic's text, thinking and tool-call
// JSON deltas, the Responses API's deltas), so a credential an upstream echoed can be split across two of them, with
// JSON between its halves that the scrub of the written text (passthrough-reply.ts) cannot see past. This reads those
// values as one text: a credential the router knows that spans values becomes [REDACTED] where it starts, and its rest
// is taken out of the values after. A value whose end could begin one waits, with everything after it, until the next
// value tells; the stream's end sends what waits as it is. Only JSON string contents change, and only by removing the
// credential's own characters (never an escape), so every event stays valid JSON.
import { REDACTED } from "../state/redact.ts";
import { type SecretScan, scanOf } from "../state/secret-scan.ts";
import { closingQuote } from "./passthrough-scan.ts";

/** A credential's part inside one value, as raw indexes of the text: replaced by [REDACTED] (its first) or removed. */
interface Cut {
  from: number;
  to: number;
  first: boolean;
}

export class StreamedValuesScrub {
  private readonly scan: SecretScan;
  /** Raw text from inside a value (a possible credential's start) to the end of what came: it waits. */
  private held = "";

  /** `secrets` longest first; `valueKey` as PassthroughDialect.streamedValues. */
  constructor(
    secrets: readonly string[],
    private readonly valueKey: RegExp,
  ) {
    this.scan = scanOf(secrets, false);
  }

  /** `text`: whole SSE blocks. Returns what may go out now. */
  take(text: string): string {
    const data = this.held === "" ? text : this.held + text;
    const continued = this.held !== "";
    this.held = "";
    const starts: number[] = [];
    const ends: number[] = [];
    let from = 0;
    if (continued) {
      // What waited starts inside a value.
      const end = closingQuote(data, 0);
      if (end < 0) return this.wait(data);
      starts.push(0);
      ends.push(end);
      from = end + 1;
    }
    const key = this.valueKey;
    key.lastIndex = from;
    for (let match = key.exec(data); match; match = key.exec(data)) {
      const start = match.index + match[0].length;
      const end = closingQuote(data, start);
      if (end < 0) break;
      starts.push(start);
      ends.push(end);
      key.lastIndex = end + 1;
    }
    // A credential spanning values starts in a value whose end could begin one: nothing before the first such value
    // can be part of one.
    let first = 0;
    while (first < starts.length && this.scan.partialSecretAt(data, starts[first]!, ends[first]!) === ends[first]!)
      first++;
    if (first === starts.length) return data;
    return this.across(data, starts.slice(first), ends.slice(first));
  }

  /** What waits, when the stream ends: it goes out as it is. */
  end(): string {
    const held = this.held;
    this.held = "";
    return held;
  }

  private wait(data: string): string {
    this.held = data;
    return "";
  }

  /** The values from the first that could start a credential, read as one text. */
  private across(data: string, starts: number[], ends: number[]): string {
    const offsets: number[] = [];
    let joined = "";
    for (let i = 0; i < starts.length; i++) {
      offsets.push(joined.length);
      joined += data.slice(starts[i], ends[i]);
    }
    /** The value holding the joined text's index `at` (the last one starting at or before it). */
    const valueAt = (at: number): number => {
      let i = offsets.length - 1;
      while (i > 0 && offsets[i]! > at) i--;
      return i;
    };
    const cuts: Cut[] = [];
    const held = this.scan.each(joined, (start, end) => {
      const firstValue = valueAt(start);
      const lastValue = valueAt(end - 1);
      // Within one value the credential is in the raw text as it is: the written text's scrub replaces it.
      if (firstValue === lastValue) return;
      const from = starts[firstValue]! + start - offsets[firstValue]!;
      if (escaped(data, from)) return;
      cuts.push({ from, to: ends[firstValue]!, first: true });
      for (let i = firstValue + 1; i < lastValue; i++) cuts.push({ from: starts[i]!, to: ends[i]!, first: false });
      cuts.push({ from: starts[lastValue]!, to: starts[lastValue]! + end - offsets[lastValue]!, first: false });
    });
    let out = "";
    let at = 0;
    for (const cut of cuts) {
      out += data.slice(at, cut.from);
      if (cut.first) out += REDACTED;
      at = cut.to;
    }
    if (held === joined.length) return out + data.slice(at);
    const value = valueAt(held);
    const holdAt = starts[value]! + held - offsets[value]!;
    this.held = data.slice(holdAt);
    return out + data.slice(at, holdAt);
  }
}

/** Whether the character at `at` is escaped (an odd run of backslashes before it). */
function escaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === 92) backslashes++;
  return backslashes % 2 === 1;
}
