// JSON bodies are parsed as fastify parses them by default (secure-json-parse: `__proto__` and `constructor` keys
// refused), and their bytes are kept beside the parsed body: a passthrough sends them on with only a few top-level
// fields edited (json-edit.ts) instead of serialising the parsed body again.
import type { FastifyInstance, FastifyRequest } from "fastify";

const rawBodies = new WeakMap<FastifyRequest["raw"], Buffer>();

export function keepRawJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    rawBodies.set(request.raw, body as Buffer);
    parse(request, body.toString(), done);
  });
}

/** The bytes a JSON request body was parsed from; undefined for any other body. */
export const rawJsonBody = (request: FastifyRequest): Buffer | undefined => rawBodies.get(request.raw);
