// How a known client reads an error status, where that hides the gateway's message from its user.
import type { IncomingHttpHeaders } from "node:http";
import { GatewayError } from "./errors.ts";

/** The Codex CLI: `originator: codex_exec` (or `codex_cli_rs`), and a User-Agent that starts the same way. */
export const isCodexClient = (headers: IncomingHttpHeaders): boolean =>
  /^codex/i.test(String(headers.originator ?? "")) || /^codex/i.test(String(headers["user-agent"] ?? ""));

/**
 * The error as this client is sent it. Codex (0.171) shows a 5xx answer's message, but a 429's only as "exceeded retry
 * limit, last status: 429 Too Many Requests", whatever its body and retry settings: every target resting is a 503 for
 * it, with the same Retry-After and message (which names each target and when the first is back).
 */
export function asClientReads(answer: GatewayError, headers: IncomingHttpHeaders): GatewayError {
  if (answer.status !== 429 || !isCodexClient(headers)) return answer;
  return new GatewayError(503, "overloaded", answer.message, answer.headers, answer.fields);
}
