// The JSON text of a state file or of a file we import (the earlier router's files): parsed, or an error that says
// where it is broken (line and column, as the routes file's syntax errors say it: src/config/json-syntax.ts) or that
// the file is empty.
import { jsonSyntaxIssue } from "../config/json-syntax.ts";

export class JsonTextError extends Error {
  constructor(
    message: string,
    /** Where the text is broken (1-based), when known. */
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

/**
 * A file's text without the byte order mark (U+FEFF) a Windows editor writes at its start: no part of the content, and
 * JSON.parse takes it for a stray character. The positions of the rest stay those an editor shows (it counts no
 * column for the mark).
 */
export const withoutByteOrderMark = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

export function parseJsonText(fileText: string): unknown {
  const text = withoutByteOrderMark(fileText);
  if (text.trim() === "") throw new JsonTextError("empty file");
  try {
    return JSON.parse(text);
  } catch (error) {
    const issue = jsonSyntaxIssue(text, error);
    throw new JsonTextError(issue.message, issue.line, issue.column);
  }
}

/** `file:line:column` for an error of parseJsonText that has a position, as a routes file's issue names its place. */
export const placeOf = (file: string, error: unknown): string =>
  error instanceof JsonTextError && error.line !== undefined ? `${file}:${error.line}:${error.column}` : file;
