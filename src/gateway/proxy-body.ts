// What the wildcard proxy reads of a request body. A JSON object or array is read (its `model` routes the request
// and is rewritten per target), whether it came as `application/json`, `application/<x>+json`, or as text (fetch's
// default `text/plain;charset=UTF-8` for a string body, curl -d's `application/x-www-form-urlencoded`), which the
// gateway holds up to its body limit anyway. Anything else is sent on as it came: held text or bytes (resent by a
// failover), or a stream (an upload, sent once). A body that begins like JSON but was not read as JSON (not valid
// JSON, or sent with a content-type that is streamed through) is flagged: without an X-Model header naming its route,
// it must not go to some provider with the client's own model name in it.
import type { FastifyRequest } from "fastify";
import { isParsedJson } from "./chat-handler.ts";
import { jsonSyntaxText, parseJsonText, rawJsonBody } from "./raw-json-body.ts";
import { LimitedBody } from "./streamed-body.ts";

export interface ProxiedBody {
  /** A JSON object or array: its `model` and `provider` are the router's to read. */
  jsonBody?: Record<string, unknown>;
  /** The bytes it came as. */
  jsonBytes?: Buffer;
  /** Any other body, sent on as it came. */
  rawBody?: unknown;
  /** Why a body that begins like JSON was not read as JSON; undefined for any other body. */
  unreadJson?: string;
}

const JSON_START = /^\s*[[{]/;

export function proxiedBody(request: FastifyRequest): ProxiedBody {
  const body = request.body;
  const bytes = rawJsonBody(request);
  if (isParsedJson(body)) return { jsonBody: body, jsonBytes: bytes };
  // JSON with no object or array at the top (a string, a number, `null`) holds nothing of the router's: its own bytes.
  if (bytes) return { rawBody: bytes };
  if (typeof body === "string") {
    if (!JSON_START.test(body)) return { rawBody: body };
    try {
      const parsed = parseJsonText(body);
      if (isParsedJson(parsed)) return { jsonBody: parsed, jsonBytes: Buffer.from(body) };
    } catch (error) {
      return { rawBody: body, unreadJson: `it is ${jsonSyntaxText(body, error)}` };
    }
    return { rawBody: body };
  }
  if (body instanceof LimitedBody && body.startsLikeJson) {
    const type = request.headers["content-type"];
    return {
      rawBody: body,
      unreadJson: `its content-type (${type ? `\`${type}\`` : "none"}) is one the gateway streams through unread`,
    };
  }
  return { rawBody: body ?? undefined };
}
