// JSON bodies (`application/json` and any `application/<x>+json`) are parsed by the gateway itself, and their bytes
// are kept beside the parsed body: a passthrough sends them on with only a few top-level fields edited
// (json-edit.ts) instead of serialising the parsed body again. Valid JSON is accepted whatever its keys: a
// `__proto__` key (a JSON schema's property of that name) and a `constructor` holding a `prototype` are left out of
// the parsed copy the gateway reads, so nothing it reads can reach an object's prototype, while the bytes sent on
// stay the client's own. An empty body is no body (a DELETE or GET sent with the JSON content type), and a body that
// is not valid JSON is a 400 saying where it is broken.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { jsonSyntaxIssue } from "../config/json-syntax.ts";
import { GatewayError } from "./errors.ts";
import { decodedBody } from "./request-encoding.ts";

const rawBodies = new WeakMap<FastifyRequest["raw"], Buffer>();

/** `application/<x>+json` (`application/vnd.api+json`, `application/merge-patch+json`), parameters or not. */
const JSON_SUFFIX_TYPE = /^application\/[^\s;/]+\+json\s*(?:;|$)/i;

/** A text that could hold such a key, however it is spelled (a `\u` escape can spell one). */
const SUSPECT_KEY = /__proto__|constructor|\\u/;

/** Drops the keys that could reach a prototype if the parsed body were ever merged into another object. */
function withoutPrototypeKeys(key: string, value: unknown): unknown {
  if (key === "__proto__") return undefined;
  if (key === "constructor" && value !== null && typeof value === "object" && "prototype" in value) return undefined;
  return value;
}

/** JSON.parse, with the keys above left out of what it returns; throws JSON.parse's SyntaxError. */
export function parseJsonText(text: string): unknown {
  return SUSPECT_KEY.test(text) ? JSON.parse(text, withoutPrototypeKeys) : JSON.parse(text);
}

/** What is wrong with a text that is not valid JSON, and where: `not valid JSON: ... at line 3, column 18`. */
export function jsonSyntaxText(text: string, error: unknown): string {
  const issue = jsonSyntaxIssue(text, error);
  return `${issue.message}${issue.line !== undefined ? ` at line ${issue.line}, column ${issue.column}` : ""}`;
}

/** The 400 for a request body that is not valid JSON. */
const jsonBodyError = (text: string, error: unknown): GatewayError =>
  new GatewayError(400, "invalid_request", `request body: ${jsonSyntaxText(text, error)}`);

export function keepRawJsonBodies(app: FastifyInstance, bodyLimitBytes: number): void {
  const parse = (request: FastifyRequest, bytes: Buffer, done: (error: Error | null, body?: unknown) => void) => {
    if (bytes.length === 0) return done(null, undefined); // no body: nothing to parse or send on
    let body: Buffer;
    try {
      body = decodedBody(request, bytes, bodyLimitBytes);
    } catch (error) {
      return done(error as Error);
    }
    rawBodies.set(request.raw, body);
    const text = body.toString();
    try {
      done(null, parseJsonText(text));
    } catch (error) {
      done(jsonBodyError(text, error));
    }
  };
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) =>
    parse(request, body as Buffer, done),
  );
  app.addContentTypeParser(JSON_SUFFIX_TYPE, { parseAs: "buffer" }, (request, body, done) =>
    parse(request, body as Buffer, done),
  );
  // A form body (what `curl -d` sends by default) is held as text, like text/plain: small, and a JSON body sent with
  // either type is read as JSON by the wildcard proxy (proxy-body.ts). Compressed, it is held decoded.
  const heldText = (request: FastifyRequest, bytes: Buffer, done: (error: Error | null, body?: unknown) => void) => {
    try {
      done(null, decodedBody(request, bytes, bodyLimitBytes).toString());
    } catch (error) {
      done(error as Error);
    }
  };
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "buffer" }, (request, body, done) =>
    heldText(request, body as Buffer, done),
  );
  app.addContentTypeParser("text/plain", { parseAs: "buffer" }, (request, body, done) =>
    heldText(request, body as Buffer, done),
  );
}

/** The bytes a JSON request body was parsed from; undefined for any other body. */
export const rawJsonBody = (request: FastifyRequest): Buffer | undefined => rawBodies.get(request.raw);
