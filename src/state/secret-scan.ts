// Finding the credentials the router knows (remembered-credentials.ts) in text written piece by piece: the scan both
// the gateway's answers (gateway/secret-scrub.ts) and the answers streamed to pi (runtime/answer-scrub.ts) use. Only
// those values are looked for (each also cut short by a few characters), so any text passes unchanged unless it holds
// one of them.
import { rememberedCredentialValues, shortestCredentialCut } from "./remembered-credentials.ts";

/** What a credential is replaced with, everywhere. */
export const REDACTED = "[REDACTED]";

const escaped = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");

/** A pattern of `secret` or its first shortestCredentialCut characters and as many of the rest as follow. */
function secretPattern(secret: string): string {
  const shortest = shortestCredentialCut(secret);
  let rest = "";
  for (let at = secret.length - 1; at >= shortest; at--) rest = `(?:${escaped(secret[at]!)}${rest})?`;
  return escaped(secret.slice(0, shortest)) + rest;
}

/**
 * The secrets of one list, compiled once: every event of every answer is scanned, so a chunk that holds none costs one
 * regex pass (irregexp skips ahead on the secrets' first characters), and a possible start of one at its end is looked
 * for only where its last characters could all belong to a secret (an SSE event ends in a newline: none can). A
 * secret cut short (shortestCredentialCut) is found as the secret.
 */
export class SecretScan {
  private readonly pattern: RegExp;
  private readonly whole: Set<string>;
  private readonly characters: Set<number>;
  private readonly firsts: Set<number>;
  private readonly longest: number;

  /** `secrets` longest first: of several that start at the same index the longest is replaced. */
  constructor(private readonly secrets: readonly string[]) {
    this.pattern = new RegExp(secrets.length > 0 ? secrets.map(secretPattern).join("|") : "(?!)", "g");
    this.whole = new Set(secrets);
    this.characters = new Set(secrets.flatMap((secret) => [...secret].map((character) => character.charCodeAt(0))));
    this.firsts = new Set(secrets.map((secret) => secret.charCodeAt(0)));
    this.longest = Math.max(0, ...secrets.map((secret) => secret.length));
  }

  /** Reports where each secret in `data` starts and ends, in order, and returns where its end could begin one (as run). */
  each(data: string, found: (start: number, end: number) => void): number {
    let from = 0;
    this.pattern.lastIndex = 0;
    for (let match = this.pattern.exec(data); match; match = this.pattern.exec(data)) {
      // The pattern takes the first secret that matches here; another may match more of the text.
      const end = this.longestAt(data, match.index);
      // A secret's start at the very end may go on in what comes next: it waits (partialSecretAt finds it).
      if (end === data.length && !this.whole.has(data.slice(match.index))) break;
      found(match.index, end);
      from = this.pattern.lastIndex = end;
    }
    return this.partialSecretAt(data, from);
  }

  /** Where the longest secret (or secret cut short) that starts at `at` in `data` ends. */
  private longestAt(data: string, at: number): number {
    let end = at;
    for (const secret of this.secrets) {
      let index = 0;
      while (index < secret.length && data.charCodeAt(at + index) === secret.charCodeAt(index)) index++;
      if (index >= shortestCredentialCut(secret) && at + index > end) end = at + index;
    }
    return end;
  }

  /**
   * Reports each stretch of `data` without a secret (`clean`) and each secret in it (`secret`), in order, and returns
   * where its end could begin a secret (its length when it cannot): that part waits for what comes next.
   */
  run(data: string, clean: (from: number, to: number) => void, secret: () => void): number {
    let from = 0;
    const held = this.each(data, (start, end) => {
      if (start > from) clean(from, start);
      secret();
      from = end;
    });
    if (held > from) clean(from, held);
    return held;
  }

  /**
   * The earliest index from `from` where the rest of `data` up to `end` is the start of a secret (`end` when none is).
   */
  partialSecretAt(data: string, from: number, end = data.length): number {
    // Only the last characters that all occur in some secret, and fewer than the longest one, can begin one.
    const earliest = Math.max(from, end - this.longest + 1);
    let run = end;
    while (run > earliest && this.characters.has(data.charCodeAt(run - 1))) run--;
    for (let at = run; at < end; at++) {
      if (!this.firsts.has(data.charCodeAt(at))) continue;
      const rest = end - at;
      for (const secret of this.secrets) {
        if (secret.length <= rest) continue;
        let index = 0;
        while (index < rest && data.charCodeAt(at + index) === secret.charCodeAt(index)) index++;
        if (index === rest) return at;
      }
    }
    return end;
  }

  /**
   * Whether `start` (what waited at a text's very end: the start of a secret, partialSecretAt) is a secret cut short,
   * which then goes out as [REDACTED] (a shorter start goes out as it is).
   */
  cutShort(start: string): boolean {
    return this.secrets.some((secret) => start.length >= shortestCredentialCut(secret) && secret.startsWith(start));
  }
}

/** The scan of each list of secrets, kept while the list is (remembered-credentials.ts makes a new one on a change). */
const scans = new WeakMap<readonly string[], SecretScan>();
/** The same for bytes: each secret spelled as its UTF-8 bytes read as latin1, one character per byte. */
const byteScans = new WeakMap<readonly string[], SecretScan>();

export function scanOf(secrets: readonly string[], bytes: boolean): SecretScan {
  const cache = bytes ? byteScans : scans;
  let scan = cache.get(secrets);
  if (!scan) {
    scan = new SecretScan(bytes ? secrets.map((secret) => Buffer.from(secret).toString("latin1")) : secrets);
    cache.set(secrets, scan);
  }
  return scan;
}

/**
 * Text written piece by piece (a chat answer's events, one content block's deltas): `take` returns what may go out now, `end` what
 * was held at the end. The credentials are those known when it is made: the attempt's own are resolved by then.
 */
export class TextScrub {
  private readonly scan: SecretScan | undefined;
  private tail = "";
  private data = "";
  private out = "";
  private readonly clean = (from: number, to: number) => void (this.out += this.data.slice(from, to));
  private replacedOne = false;
  private readonly secret = () => {
    this.out += REDACTED;
    this.replacedOne = true;
  };

  /** `secrets` longest first, so a longer value wins over one it contains. */
  constructor(secrets: readonly string[] = rememberedCredentialValues()) {
    this.scan = secrets.length > 0 ? scanOf(secrets, false) : undefined;
  }

  take(text: string): string {
    if (!this.scan) return text;
    this.data = this.tail === "" ? text : this.tail + text;
    const held = this.scan.run(this.data, this.clean, this.secret);
    this.tail = held < this.data.length ? this.data.slice(held) : "";
    const out = this.out;
    this.data = this.out = "";
    return out;
  }

  /** Whether a credential was replaced in what it was given. */
  get replaced(): boolean {
    return this.replacedOne;
  }

  /** Whether the end of what it was given waits, as the possible start of a credential. */
  get holding(): boolean {
    return this.tail !== "";
  }

  end(): string {
    const tail = this.tail;
    this.tail = "";
    if (!this.scan?.cutShort(tail)) return tail;
    this.replacedOne = true;
    return REDACTED;
  }

  /** A whole answer, scrubbed at once. */
  static all(text: string, secrets?: readonly string[]): string {
    const scrub = new TextScrub(secrets);
    return scrub.take(text) + scrub.end();
  }
}
