// zod's words for a value outside a fixed set ("Invalid option: expected one of ...") or for a union no option of which
// matched ("Invalid input") say neither what was written nor what it was probably meant to be. Config errors say both,
// as the unknown-key warnings do: `expected one of "reasoning", ..., "interactive", got "interactiv"; did you mean
// "interactive"?`. The issues come from a parse with `reportInput`, so each carries the value it is about.
import type { z } from "zod";
import { redactText } from "../state/redact.ts";
import { closestKey } from "./key-suggestions.ts";
import { plural } from "../analytics/text-format.ts";

type Issue = z.core.$ZodIssue & { input?: unknown };

/** A described issue, at its path below the issue zod reported (a union's option may fail deeper down). */
export interface IssueText {
  path: PropertyKey[];
  message: string;
}

/** The value written, as a message quotes it: redacted (a key pasted into the wrong field is still a key), and short. */
export const shown = (value: unknown): string => {
  const text = redactText(JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const typeName = (value: unknown): string => (Array.isArray(value) ? "array" : value === null ? "null" : typeof value);

/**
 * `expected one of "user", "assistant", got "assitant"; did you mean "assistant"?` (the nearest only if near; `got none`
 * for no value). `alternative`: another form the field takes, after the list (`or an object such as ...`).
 */
export function oneOf(values: readonly unknown[], input: unknown, alternative?: string): string {
  const listed = `${values.map(shown).join(", ")}${alternative ? ` or ${alternative}` : ""}`;
  const near =
    typeof input === "string"
      ? closestKey(
          input,
          values.filter((value): value is string => typeof value === "string"),
        )
      : undefined;
  const got = input === undefined ? "none" : shown(input);
  return `expected ${values.length === 1 ? listed : `one of ${listed}`}, got ${got}${near ? `; did you mean "${near}"?` : ""}`;
}

/** An option of a union that rejects the value's very shape (a string where it takes an array), not its content. */
function rejectsShape(issues: readonly Issue[]): boolean {
  return issues.some(
    (issue) =>
      issue.path.length === 0 &&
      (issue.code === "invalid_type" ||
        (issue.code === "invalid_value" && !issue.values.some((value) => typeof value === typeof issue.input))),
  );
}

/** What an expected shape is called in "expected a string or an array". */
function shapeOf(issues: readonly Issue[]): string {
  const root = issues.find((issue) => issue.path.length === 0);
  if (root?.code === "invalid_type") return root.expected;
  if (root?.code === "invalid_value") return `one of ${root.values.map(shown).join(", ")}`;
  return "another shape";
}

/** A shape as "expected ..." names it: "an object", "a string", "an array". */
const ARTICLE_SHAPES: Record<string, string> = {
  record: "an object",
  object: "an object",
  array: "an array",
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
};

/** A value's shape as "got ..." names it. */
const GOT_SHAPES: Record<string, string> = {
  object: "an object",
  array: "an array",
  string: "a string",
  number: "a number",
  boolean: "true or false",
  null: "null",
};

const NUMBER_SHAPES: ReadonlySet<string> = new Set(["number", "int"]);

/** `expected a number, got the text "$5": write 5, without quotes`, the number only where the text is one. */
function numberAsText(text: string, expected: string): string {
  const bare = text.trim().replace(/^\$\s*/, "");
  const number = /^-?(\d+(\.\d*)?|\.\d+)$/.test(bare) ? Number(bare) : Number.NaN;
  const write = Number.isFinite(number) ? `: write ${number}, without quotes` : "";
  return `expected ${expected}, got the text ${shown(text)}${write}`;
}

const NUMBER_ORIGINS: ReadonlySet<string> = new Set(["number", "int"]);

export function describeIssue(issue: Issue): IssueText[] {
  // zod says "expected record, received undefined" for a key that is not there at all.
  if (issue.code === "invalid_type" && issue.input === undefined)
    return [
      { path: [], message: `missing: this key is required (${ARTICLE_SHAPES[issue.expected] ?? issue.expected})` },
    ];
  if (issue.code === "invalid_value" && "input" in issue)
    return [{ path: [], message: oneOf(issue.values, issue.input) }];
  // A number written as text (`"daily": "5"`, `"$5"`): zod's "expected number, received string" does not say which
  // text, nor that the same number without quotes is what it takes (a schema's own message is kept).
  if (
    issue.code === "invalid_type" &&
    typeof issue.input === "string" &&
    NUMBER_SHAPES.has(issue.expected) &&
    issue.message.startsWith("Invalid input")
  )
    return [{ path: [], message: numberAsText(issue.input, ARTICLE_SHAPES[issue.expected]!) }];
  // zod's own words for a number out of range or with decimals ("Too small: expected number to be >0", "Invalid input:
  // expected int, received number") are not the user's: said as the schema's own messages are, with what was written
  // (a schema's own message is kept).
  // A whole number's own range (origin "int": zod's safe-integer bound, "Too big: expected int to be <=9007199254740991")
  // the same way.
  if (issue.code === "too_small" && NUMBER_ORIGINS.has(issue.origin) && issue.message.startsWith("Too small"))
    return [
      {
        path: [],
        message: `expected ${issue.origin === "int" ? "a whole number" : "a number"} ${issue.inclusive ? "of at least" : "above"} ${issue.minimum}, got ${shown(issue.input)}`,
      },
    ];
  if (issue.code === "too_big" && NUMBER_ORIGINS.has(issue.origin) && issue.message.startsWith("Too big"))
    return [
      {
        path: [],
        message: `expected ${issue.origin === "int" ? "a whole number" : "a number"} ${issue.inclusive ? "of at most" : "below"} ${issue.maximum}, got ${shown(issue.input)}`,
      },
    ];
  // zod's "Too small: expected array to have >=1 items": how many it takes, and how many were sent.
  if (issue.code === "too_small" && issue.origin === "array" && issue.message.startsWith("Too small")) {
    const count = Array.isArray(issue.input) ? issue.input.length : undefined;
    const items = (n: number | bigint) => plural(Number(n), "item");
    return [
      {
        path: [],
        message: `expected at least ${items(issue.minimum)}${count === undefined ? "" : `, got ${count === 0 ? "an empty array" : items(count)}`}`,
      },
    ];
  }
  if (issue.code === "too_small" && issue.origin === "string" && issue.message.startsWith("Too small"))
    return [
      {
        path: [],
        message: `expected ${Number(issue.minimum) === 1 ? "a non-empty string" : `at least ${issue.minimum} characters`}, got ${shown(issue.input)}`,
      },
    ];
  if (
    issue.code === "invalid_type" &&
    issue.expected === "int" &&
    typeof issue.input === "number" &&
    issue.message.startsWith("Invalid input")
  )
    return [{ path: [], message: `expected a whole number, got ${shown(issue.input)}` }];
  // zod's "Invalid input: expected record, received array" in the words of the rest: `expected an object, got an
  // array`. The value itself is not quoted: a header's value in the wrong shape may be a credential.
  if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input"))
    return [
      {
        path: [],
        message: `expected ${ARTICLE_SHAPES[issue.expected] ?? issue.expected}, got ${GOT_SHAPES[typeName(issue.input)] ?? typeName(issue.input)}${tierRouteHint(issue)}`,
      },
    ];
  // A pattern's message ("expected HH:MM (24 h)") does not say what was written.
  if (issue.code === "invalid_format" && "input" in issue)
    return [{ path: [], message: `${issue.message}, got ${shown(issue.input)}${clockTimeHint(issue)}` }];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [{ path: [], message: issue.message }];
  const options = issue.errors as Issue[][];
  const fitting = options.filter((option) => !rejectsShape(option));
  if (fitting.length === 0) {
    const shapes = [...new Set(options.map(shapeOf))];
    return [{ path: [], message: `expected ${shapes.join(" or ")}, got ${typeName(issue.input)}` }];
  }
  // Options that each take a value from a fixed set at the same place (a tier or "interactive"): one list of them.
  const values = fitting.flat();
  const first = values[0]!;
  const samePlace = (other: Issue) => other.path.join(".") === first.path.join(".");
  if (values.every((other) => other.code === "invalid_value" && samePlace(other)) && "input" in first)
    return [
      {
        path: first.path,
        message: oneOf([...new Set(values.flatMap((other) => (other as { values: unknown[] }).values))], first.input),
      },
    ];
  return fitting[0]!.flatMap((inner) =>
    describeIssue(inner).map((text) => ({ path: [...inner.path, ...text.path], message: text.message })),
  );
}

/**
 * Each issue of a parse with `reportInput` as one line, "<where>: <what was expected>, got <value>", `where` the dotted
 * path below `prefix` (how a file we import names the place of an entry it leaves out).
 */
export function issueLines(prefix: readonly PropertyKey[], error: z.ZodError): string[] {
  return error.issues.flatMap((issue) =>
    describeIssue(issue as Issue).map((text) => {
      const where = [...prefix, ...issue.path, ...text.path].map(String).join(".") || "(top level)";
      const input = (issue as Issue).input;
      const scalar = input === null || (input !== undefined && typeof input !== "object");
      const quoted = scalar && !text.message.includes(", got ");
      return `${where}: ${text.message}${quoted ? `, got ${shown(input)}` : ""}`;
    }),
  );
}

/**
 * What a clock time written almost right means: "24:00" reads as a 24-hour time but is no time of day (a window to
 * the end of the day ends at "00:00", and wraps past midnight), "9:00" lacks its leading zero.
 */
function clockTimeHint(issue: Issue): string {
  if (issue.message !== "expected HH:MM (24 h)" || typeof issue.input !== "string") return "";
  const text = issue.input.trim();
  if (text === "24:00") return '; midnight is "00:00" (a window to the end of the day ends at "00:00")';
  const short = /^(\d):([0-5]\d)$/.exec(text);
  return short ? `; write "0${short[1]}:${short[2]}"` : "";
}

/** `"tiers": { "reasoning": "think" }`: a tier takes an object naming its route, and the fix is that object. */
function tierRouteHint(issue: Issue): string {
  const { path, input } = issue;
  if (path.length !== 2 || path[0] !== "tiers" || typeof input !== "string" || issue.code !== "invalid_type") return "";
  return issue.expected === "object" ? `; write { "route": ${JSON.stringify(input)} }` : "";
}
