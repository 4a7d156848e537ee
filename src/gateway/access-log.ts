// One access line per request, written when its connection is done with it (answered, cut off or abandoned):
// method, path (never the query string, which may carry a key), the route, the status, the target that served it,
// how an answer that did not end normally ended, and the milliseconds. Never headers or bodies.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ServerResponse } from "node:http";
import { redactText } from "../state/redact.ts";
import { watchOf } from "./request-watch.ts";

const MAX_PATH_CHARS = 200;

/**
 * A client's request target as a log line shows it: its path (never the query string, which may carry a key),
 * redacted, then cut to MAX_PATH_CHARS (cut first, a key the cut went through would keep too little of its shape to
 * be redacted).
 */
export function shownPath(target: string): string {
  const path = redactText(target.split("?", 1)[0]!);
  return path.length > MAX_PATH_CHARS ? `${path.slice(0, MAX_PATH_CHARS)}...` : path;
}

/** The request's path as logged: the endpoint's own for built-in ones, the client's (shownPath) for proxied ones. */
export function loggedPath(request: FastifyRequest): string {
  return request.routeOptions.url || shownPath(request.url);
}

/** The `error` line of a request the gateway refused (any 4xx but 401) or failed (5xx): why, redacted. */
export function errorLine(request: FastifyRequest, why: string): string {
  return `error ${request.method} ${loggedPath(request)}: ${redactText(why)}`;
}

/**
 * How far the answer got when its connection was done with it: read at that moment, for every endpoint alike. A
 * handler that ends the response after the client left (a translated stream stops at its next event and calls end())
 * makes it look finished afterwards, so it is never read later.
 */
export type AnswerState = "none" | "cut-off" | "finished";

export function answerState(raw: ServerResponse): AnswerState {
  if (!raw.headersSent) return "none";
  return raw.writableFinished ? "finished" : "cut-off";
}

export function accessLine(request: FastifyRequest, reply: FastifyReply, answer: AnswerState, ms: number): string {
  const raw = reply.raw;
  const watch = watchOf(raw);
  const route = watch?.routeId;
  const served = watch?.servedKey;
  const status = raw.headersSent ? raw.statusCode : undefined;
  // The drain deadline ends an answer under way with the protocol's error record: finished, yet cut all the same.
  const cutByDrain = answer === "finished" && watch?.shutDown === true && status !== undefined && status < 400;
  const ending =
    answer === "none"
      ? " no-answer" // the connection closed before any answer: the client left, or the drain deadline passed
      : answer === "cut-off" || cutByDrain
        ? " cut-off" // the answer had started: the client left, or an idle or drain timeout cut it
        : watch?.refused
          ? " refused" // the target refused: the client got its protocol's refusal (content_filter, refusal)
          : watch?.end?.outcome === "failed" &&
              watch.end.servedKey !== undefined &&
              status !== undefined &&
              status < 400
            ? " failed-after-start" // the target failed after the commit point: the client got the protocol's error record
            : "";
  return `${request.method} ${loggedPath(request)}${route ? ` route=${route}` : ""} ${status ?? "-"}${served ? ` served-by=${served}` : ""}${ending} ${Math.round(ms)}ms`;
}

/**
 * Logs every request, the ones refused by the token check included (register before that check): once its connection
 * is done with it and, for a routed request, once the router has ended it (a passthrough's answer can be sent before
 * the router has read how it ended).
 */
export function logAccess(app: FastifyInstance, log: (line: string) => void): void {
  app.addHook("onRequest", (request, reply, done) => {
    const startedAt = performance.now();
    reply.raw.once("close", () => {
      const answer = answerState(reply.raw);
      const write = () => log(accessLine(request, reply, answer, performance.now() - startedAt));
      const watch = watchOf(reply.raw);
      if (watch) watch.whenClosed(write);
      else write();
    });
    done();
  });
}
