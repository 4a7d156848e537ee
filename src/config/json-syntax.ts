// What is wrong with a routes file that is not valid JSON, and where: one line with line and column for every syntax
// error. V8 gives a character offset for some errors ("... in JSON at position 312") but for others only an excerpt
// of the file ("Unexpected token ']', ..."odel-a"}, ]}" is not valid JSON"), which may span several lines; there
// jsonc-parser (already the loader's parser for locating issues) says where the first error is.
import { type ParseError, parse as parseJsonc } from "jsonc-parser";
import type { ConfigIssue } from "./issues.ts";

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/** Where strict JSON parsing first fails, by jsonc-parser with comments and trailing commas disallowed. */
function firstErrorOffset(text: string): number | undefined {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors[0]?.offset;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters a message must not carry raw
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** The issue for a text JSON.parse rejected with `error`. */
export function jsonSyntaxIssue(text: string, error: unknown): ConfigIssue {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  // A file cut short ("Unexpected end of JSON input") is broken where it ends.
  const end = /end of JSON input/.test(message) ? text.replace(/\s+$/, "").length : undefined;
  const offset = position ? Number(position[1]) : (end ?? firstErrorOffset(text));
  const what = message
    .replace(/\s*(in JSON )?at position \d+(\s*\(line \d+ column \d+\))?/, "")
    // The excerpt of the file V8 quotes says nothing line and column do not, and may hold line breaks.
    .replace(/,?\s*(?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, "")
    .replace(/\s+/g, " ")
    // A byte of a binary or NUL-filled file, quoted by V8 as it is, would reach the terminal raw: written as \uXXXX.
    .replace(CONTROL_CHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .trim();
  // `[1, 2, ]` and `{"a": 1, }`: JSON has no trailing commas, and neither message says that is the problem.
  const closer = offset !== undefined ? text[offset] : undefined;
  const trailingComma =
    (closer === "]" || closer === "}") && text.slice(0, offset).trimEnd().endsWith(",")
      ? " (JSON allows no comma before it)"
      : "";
  // A `//` or `/* */` note, natural in a config file: V8 only says what it expected instead.
  const comment =
    offset !== undefined && /^\/[/*]/.test(text.slice(offset, offset + 2))
      ? ' (comments are not allowed in this JSON file; write a note as a "_comment" key)'
      : "";
  return {
    severity: "error",
    path: "",
    message: `not valid JSON: ${what}${trailingComma}${comment}`,
    ...(offset !== undefined && lineAndColumn(text, offset)),
  };
}
