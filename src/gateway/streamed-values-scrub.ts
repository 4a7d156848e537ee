// A passthrough stream's answer text is the string values of many events (Anthropic's text, thinking and tool-call
// JSON deltas, the Responses API's deltas), so a credential an upstream echoed can be split across two of them, with
// JSON between its halves that the scrub of the written text (passthrough-reply.ts) cannot see past. This reads those
// values as one text: a credential the router knows that spans values becomes [REDACTED] where it starts, and its rest
// is taken out of the values after. A value whose end could begin one waits, with everything after it, until the next
// value tells; the stream's end sends what waits as it is. Only JSON string contents change, and only by removing the
// credential's own characters (never an escape), so every event stays valid JSON.
import { REDACTED } from "../state/redact.ts";
import { type SecretScan, scanOf } from "../state/secret-scan.ts";
import { closingQuote, escapedAt } from "./passthrough-scan.ts";

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
  /** The value nextValue() found: where its text starts and where its closing quote is. */
  private valueStart = 0;
  private valueEnd = 0;

  /** `secrets` longest first; `valueKey` as PassthroughDialect.streamedValues. */
  constructor(
    secrets: readonly string[],
    private readonly valueKey: RegExp,
  ) {
    this.scan = scanOf(secrets, false);
  }

  /** `text`: whole SSE blocks. Returns what may go out now. */
  take(text: string): string {
    const continued = this.held !== "";
    const data = continued ? this.held + text : text;
    this.held = "";
    // The values from the first one whose end could begin a credential (flat: start, end, start, end...): one that
    // spans values starts in such a value, so nothing before it can be part of one.
    let values: number[] | undefined;
    let partial = 0;
    let more: boolean;
    this.valueKey.lastIndex = 0;
    if (continued) {
      // What waited starts inside a value.
      const end = closingQuote(data, 0);
      if (end < 0) return this.wait(data);
      this.valueStart = 0;
      this.valueEnd = end;
      this.valueKey.lastIndex = end + 1;
      more = true;
    } else more = this.nextValue(data);
    for (; more; more = this.nextValue(data)) {
      const start = this.valueStart;
      const end = this.valueEnd;
      if (values) values.push(start, end);
      else {
        partial = this.scan.partialSecretAt(data, start, end);
        if (partial < end) values = [start, end];
      }
    }
    if (!values) return data;
    // The last value alone (the usual case): its possible start waits, there is no value after it to read across.
    if (values.length === 2) {
      this.held = data.slice(partial);
      return data.slice(0, partial);
    }
    return this.across(data, values);
  }

  /** The next value from the key's lastIndex on (false: none whole). */
  private nextValue(data: string): boolean {
    const key = this.valueKey;
    // test(), not exec(): no match object per value; the key ends at the value's opening quote.
    if (!key.test(data)) return false;
    const start = key.lastIndex;
    const end = closingQuote(data, start);
    if (end < 0) return false;
    key.lastIndex = end + 1;
    this.valueStart = start;
    this.valueEnd = end;
    return true;
  }

  /**
   * What waits, when the stream ends: it goes out as it is, unless the values in it (from the first one's middle on)
   * are a credential cut short (SecretScan.cutShort): their text then goes out as [REDACTED] where it starts.
   */
  end(): string {
    const held = this.held;
    this.held = "";
    const first = closingQuote(held, 0);
    if (first < 0) return held;
    const values = [0, first];
    let text = held.slice(0, first);
    this.valueKey.lastIndex = first + 1;
    while (this.nextValue(held)) {
      values.push(this.valueStart, this.valueEnd);
      text += held.slice(this.valueStart, this.valueEnd);
    }
    if (!this.scan.cutShort(text)) return held;
    let out = REDACTED;
    let at = first;
    for (let i = 2; i < values.length; i += 2) {
      out += held.slice(at, values[i]);
      at = values[i + 1]!;
    }
    return out + held.slice(at);
  }

  private wait(data: string): string {
    this.held = data;
    return "";
  }

  /** The values from the first that could start a credential, read as one text. */
  private across(data: string, values: number[]): string {
    const starts = values.filter((_, i) => i % 2 === 0);
    const ends = values.filter((_, i) => i % 2 === 1);
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
      if (escapedAt(data, from)) return;
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
