// A passthrough sends the client's own JSON body with a few top-level fields changed (the target's model id, the
// router's own `provider` field taken out, `stream` on). Serialising the parsed body again costs more than the rest of
// the request for a Claude Code-sized body (100-200 KB of tools and messages), so the client's bytes are edited in
// place: one pass finds the top-level members (strings are skipped with indexOf), the untouched members are copied
// as they came, and the changed ones are written anew. Anything unexpected falls back to serialising the object.

/** Top-level changes: members to set (added at the end when absent) and members to take out. */
export interface JsonEdits {
  set: Record<string, unknown>;
  remove: readonly string[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

function skipSpace(bytes: Buffer, index: number): number {
  while (isSpace(bytes[index])) index++;
  return index;
}

/** The index of the quote closing the string that opens at `start`. */
function stringEnd(bytes: Buffer, start: number): number {
  for (let from = start + 1; ; ) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote < 0) throw new Error("unterminated string");
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** The index just after the value that starts at `start`. */
function valueEnd(bytes: Buffer, start: number): number {
  const first = bytes[start];
  if (first === QUOTE) return stringEnd(bytes, start) + 1;
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    for (let index = start; index < bytes.length; index++) {
      const byte = bytes[index];
      if (byte === QUOTE) index = stringEnd(bytes, index);
      else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++;
      else if ((byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) && --depth === 0) return index + 1;
    }
    throw new Error("unterminated object or array");
  }
  let index = start;
  while (index < bytes.length) {
    const byte = bytes[index];
    if (byte === COMMA || byte === CLOSE_OBJECT || byte === CLOSE_ARRAY || isSpace(byte)) break;
    index++;
  }
  if (index === start) throw new Error("value expected");
  return index;
}

interface Member {
  key: string;
  /** From the key's opening quote to the end of its value. */
  start: number;
  end: number;
}

/** The top-level members of a JSON object, in order; throws on anything that is not one. */
export function topLevelMembers(bytes: Buffer): Member[] {
  let index = skipSpace(bytes, 0);
  if (bytes[index] !== OPEN_OBJECT) throw new Error("not a JSON object");
  index = skipSpace(bytes, index + 1);
  const members: Member[] = [];
  if (bytes[index] === CLOSE_OBJECT) return members;
  for (;;) {
    if (bytes[index] !== QUOTE) throw new Error("member name expected");
    const keyEnd = stringEnd(bytes, index);
    const text = bytes.toString("utf8", index + 1, keyEnd);
    const key = text.includes("\\") ? (JSON.parse(`"${text}"`) as string) : text;
    const start = index;
    index = skipSpace(bytes, keyEnd + 1);
    if (bytes[index] !== COLON) throw new Error("colon expected");
    const end = valueEnd(bytes, skipSpace(bytes, index + 1));
    members.push({ key, start, end });
    index = skipSpace(bytes, end);
    if (bytes[index] === CLOSE_OBJECT) {
      if (skipSpace(bytes, index + 1) !== bytes.length) throw new Error("text after the object");
      return members;
    }
    if (bytes[index] !== COMMA) throw new Error("comma expected");
    index = skipSpace(bytes, index + 1);
  }
}

const OPEN = Buffer.from("{");
const SEPARATOR = Buffer.from(",");
const CLOSE = Buffer.from("}");
const member = (key: string, value: unknown) => Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(value)}`);

/**
 * The client's body with the edits applied: its own bytes where it has them (`raw`, the body `parsed` came from),
 * else, or when they are not one plain JSON object, the parsed body serialised again.
 */
export function editJson(raw: Buffer | undefined, parsed: Record<string, unknown>, edits: JsonEdits): Buffer {
  if (raw) {
    try {
      return spliced(raw, edits);
    } catch {
      // Not what JSON.parse accepted after all (it never happens for a body fastify parsed): serialise instead.
    }
  }
  const copy: Record<string, unknown> = { ...parsed };
  for (const key of edits.remove) delete copy[key];
  return Buffer.from(JSON.stringify(Object.assign(copy, edits.set)));
}

function spliced(raw: Buffer, edits: JsonEdits): Buffer {
  const parts: Buffer[] = [OPEN];
  const written = new Set<string>();
  const add = (part: Buffer) => {
    if (parts.length > 1) parts.push(SEPARATOR);
    parts.push(part);
  };
  for (const { key, start, end } of topLevelMembers(raw)) {
    if (edits.remove.includes(key) || written.has(key)) continue;
    if (Object.hasOwn(edits.set, key)) {
      add(member(key, edits.set[key]));
      written.add(key);
    } else add(raw.subarray(start, end));
  }
  for (const [key, value] of Object.entries(edits.set)) if (!written.has(key)) add(member(key, value));
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
