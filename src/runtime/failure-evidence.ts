// The classifier's readers (part of the one classifier, classify-failure.ts): what an error text says beyond its
// words: a leading HTTP status, the error types of a JSON body, and whether pi-ai reads it as a context overflow.
import { isContextOverflow, type AssistantMessage } from "@mariozechner/pi-ai";
import { isObject } from "../is-object.ts";
import { zeroUsage } from "./zero-usage.ts";

// "429 Rate limit...", "429: {"message":...}" (newer pi), "Mistral API error (429): ..." (pi-ai's Mistral wrapper)
const LEADING_STATUS = /^(?:Mistral API error \()?(\d{3})\b/;

/**
 * The provider's words after a plain leading status ("400 UPSTREAM SAYS BAD", "422: unprocessable"), which a client
 * given that status need not read twice; undefined without such a status, with nothing after it, or a JSON body after
 * it (its message is read from the body).
 */
export function afterLeadingStatus(text: string): string | undefined {
  const match = /^\d{3}(?::|\b)\s*/.exec(text);
  if (!match) return undefined;
  const rest = text.slice(match[0].length).trim();
  return rest === "" || rest.startsWith("{") ? undefined : rest;
}

export function leadingStatus(text: string): number | undefined {
  const match = LEADING_STATUS.exec(text);
  if (!match) return undefined;
  const status = Number(match[1]);
  return status >= 100 && status <= 599 ? status : undefined;
}

export function looksLikeOverflow(text: string, contextWindow: number | undefined): boolean {
  // pi-ai's own detector, so that we agree with pi's auto-compaction about what an overflow is.
  const probe: AssistantMessage = {
    role: "assistant",
    content: [],
    api: "openai-completions",
    provider: "auto-router",
    model: "",
    usage: zeroUsage(),
    stopReason: "error",
    errorMessage: text,
    timestamp: 0,
  };
  return isContextOverflow(probe, contextWindow);
}

export interface ParsedBody {
  status?: number;
  errorTypes: string[];
  /** The body's own message (`error.message`, else `message`, else `error` as text). */
  message?: string;
  /** OpenAI's `error.param` and `error.code` (strings), which SDKs expose to programs. */
  param?: string;
  code?: string;
}

/**
 * Reads the JSON part of a message ("529 {...}", "429: {...}", a bare Google body, "got status: X. {...}").
 * If it does not parse (truncated bodies), falls back to picking "type"/"code"/"status"/"reason" values out by regex.
 */
export function parseJsonBody(text: string): ParsedBody {
  const start = text.indexOf("{");
  const errorTypes: string[] = [];
  // OpenAI Responses stream errors: "Error Code rate_limit_exceeded: ..." / "server_error: ..."
  const codePrefix = /^(?:Error Code )?([a-z]+(?:_[a-z]+)+):/i.exec(text);
  if (codePrefix) errorTypes.push(codePrefix[1]!.toLowerCase());
  if (start < 0) return { errorTypes };
  const body = parseJson(text.slice(start)) ?? parseJson(text.slice(start, text.lastIndexOf("}") + 1));
  if (body === undefined) {
    for (const match of text.matchAll(/"(?:type|code|status|reason)"\s*:\s*"([A-Za-z_]+)"/g))
      errorTypes.push(match[1]!.toLowerCase());
    return { errorTypes };
  }
  const record = asRecord(body);
  const error = asRecord(record?.error);
  const details = Array.isArray(error?.details) ? error.details.map(asRecord) : [];
  for (const value of [
    error?.code,
    error?.type,
    error?.status,
    ...details.map((detail) => detail?.reason),
    record?.code,
    record?.type,
    record?.status,
  ]) {
    if (typeof value === "string") errorTypes.push(value.toLowerCase());
  }
  const numericCode = [error?.code, record?.code, record?.status].find((value) => typeof value === "number");
  const status = typeof numericCode === "number" && numericCode >= 400 && numericCode <= 599 ? numericCode : undefined;
  const parsed: ParsedBody = status === undefined ? { errorTypes } : { status, errorTypes };
  const message = [error?.message, record?.message, record?.error].find(
    (value): value is string => typeof value === "string" && value.trim() !== "",
  );
  if (message !== undefined) parsed.message = message;
  if (typeof error?.param === "string") parsed.param = error.param;
  if (typeof error?.code === "string") parsed.code = error.code;
  return parsed;
}

function parseJson(candidate: string): unknown {
  try {
    return JSON.parse(candidate);
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return isObject(value) ? value : undefined;
}
