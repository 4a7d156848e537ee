// A passthrough attempt: the client's own request, sent to a target of the same API with the target's model id and
// credentials (src/runtime/route-request.ts, TargetPassthrough). The upstream's bytes go back to the client as they
// come, scanned by the protocol's dialect for the commit point, usage and errors; nothing is translated through
// pi-ai. Before the commit point the answer is held, so a failure still fails over inside the runtime's one loop.
import type { Api, Context, Model, StopReason } from "@mariozechner/pi-ai";
import type { FastifyReply, FastifyRequest } from "fastify";
import http from "node:http";
import https from "node:https";
import { urlToHttpOptions } from "node:url";
import { AttemptWatchdog, type TimeoutReason } from "../runtime/attempt-watchdog.ts";
import type { AttemptOutcome } from "../runtime/attempt.ts";
import { classifyFailure, makeFailure, notAnEventStream, type Failure } from "../runtime/classify-failure.ts";
import {
  cutOffText,
  emptyResponseFailure,
  endedWithoutResultText,
  THINKING_COMMIT_MS,
  ThinkingProgress,
  timeoutFailure as timeoutOf,
} from "../runtime/commit-point.ts";
import type { PassthroughAttempt, TargetPassthrough } from "../runtime/route-request.ts";
import type { RegistryLike } from "../runtime/start-target.ts";
import { redactText } from "../state/redact.ts";
import { committedErrorText, cutOffCategory, GatewayShutdown } from "./errors.ts";
import { strippedConversation } from "./earlier-shortcuts.ts";
import { editJson } from "./json-edit.ts";
import { outputCapEdits } from "./passthrough-output-cap.ts";
import {
  answerMessage,
  brokenEvent,
  SseBlocks,
  type PassthroughDialect,
  type StreamScanner,
} from "./passthrough-scan.ts";
import { PassthroughReply } from "./passthrough-reply.ts";
import { refusalFailure } from "./refusal.ts";
import { authHeaders, forwardedHeaders } from "./upstream-headers.ts";

const AGENTS = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
const ERROR_BODY_LIMIT_CHARS = 4_000;

export interface PassthroughInput {
  dialect: PassthroughDialect;
  registry: RegistryLike | undefined;
  /** The client's parsed body, as it came. */
  body: Record<string, unknown>;
  /** The same request as pi-ai's translation reads it. */
  context: Context;
  /** The bytes it was parsed from (edited in place for each target, not serialised again). */
  jsonBytes: Buffer | undefined;
  query: string;
  clientHeaders: FastifyRequest["headers"];
  /** The model name the client asked for: the name it sees in the answer. */
  clientModel: string;
  reply: FastifyReply;
  /** The response headers at the commit point (route, attempts, served-by). */
  headers(): Record<string, string>;
  /** What a stream silent for `everyMs` sends its client (an OpenAI target sends no keep-alive of its own). */
  keepAlive?: { text: string; everyMs: number };
  now(): number;
  /** Top-level fields one target is sent besides its model (an OpenRouter target's `provider` block). */
  targetFields?(target: Model<Api>): Record<string, unknown>;
  /** The encrypted content of the reasoning items the target's answer handed the client, when it ends. */
  onIssuedReasoning?(encryptedContents: string[], target: Model<Api>): void;
}

export interface GatewayPassthrough extends TargetPassthrough {
  /** True once an attempt has sent the client its status and headers. */
  readonly committed: boolean;
}

/** Parsed upstream URLs by API and base URL: the same few targets serve every request. */
const upstreamUrls = new Map<string, ReturnType<typeof urlToHttpOptions>>();
const KEPT_UPSTREAM_URLS = 256;

/** The request options of the target's endpoint (host, port, path with the client's query string). */
function upstreamUrl(baseUrl: string, dialect: PassthroughDialect, query: string): ReturnType<typeof urlToHttpOptions> {
  const key = `${dialect.api} ${baseUrl}`;
  let parsed = upstreamUrls.get(key);
  if (!parsed) {
    const base = baseUrl.replace(/\/+$/, "");
    parsed = urlToHttpOptions(new URL(`${base}${dialect.path(base)}`));
    if (upstreamUrls.size >= KEPT_UPSTREAM_URLS) upstreamUrls.clear();
    upstreamUrls.set(key, parsed);
  }
  return query ? { ...parsed, path: `${parsed.path}${query}` } : parsed;
}

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

const headerRecord = (headers: http.IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  return out;
};

/**
 * Whether the conversation, as pi-ai's translation reads it, holds an image (a tool result's included). Routing asks
 * for a vision target only when the prompt being answered has one; an image of an earlier prompt is sent as it is only
 * to a target that takes images: for the others the request is translated, and pi-ai leaves the image out. Content
 * the translation has no place for (an image by file id) is no image here: only the client's own API can carry it.
 */
function holdsImage(messages: Context["messages"]): boolean {
  for (const message of messages) {
    const content = (message as { content?: unknown }).content;
    if (Array.isArray(content) && content.some((block: { type?: unknown }) => block?.type === "image")) return true;
  }
  return false;
}

export function gatewayPassthrough(input: PassthroughInput): GatewayPassthrough {
  let images: boolean | undefined;
  // Earlier prompts' shortcuts are taken off for every target alike: found once per request.
  const history = strippedConversation(input.body, input.dialect.conversation);
  // A plain field, not a getter: an object literal with an accessor is built on V8's slow path, on every request.
  const passthrough: { -readonly [K in keyof GatewayPassthrough]: GatewayPassthrough[K] } = {
    committed: false,
    accepts(target, auth, patch) {
      if (target.api !== input.dialect.api || patch?.headers || patch?.body || auth.env) return false;
      // pi-ai adapts requests to these (subscription logins, a provider's quirks): they take the translating path.
      if (input.registry?.isUsingOAuth?.(target) || auth.apiKey?.startsWith("sk-ant-oat")) return false;
      if (!outputCapEdits(target, input.body)) return false;
      if (!target.input.includes("image") && (images ??= holdsImage(input.context.messages))) return false;
      return input.dialect.fits?.(target, input.body) ?? true;
    },
    attempt: (attempt) =>
      runPassthrough(input, history, attempt, () => {
        passthrough.committed = true;
      }),
  };
  return passthrough;
}

function runPassthrough(
  input: PassthroughInput,
  history: Record<string, unknown> | undefined,
  attempt: PassthroughAttempt,
  markCommitted: () => void,
): Promise<AttemptOutcome> {
  const { target, auth, candidate, timeouts, signal } = attempt;
  const { dialect, reply, now } = input;
  const streaming = input.body.stream === true;
  const client = new PassthroughReply(reply, streaming, input.headers, input.keepAlive, dialect.streamedValues);
  const startedAt = now();
  const url = upstreamUrl(auth.baseUrl ?? target.baseUrl, dialect, input.query);
  // A non-streaming client's answer is streamed from the target too: the same timeouts and commit point apply.
  // Made from the conversation without its earlier shortcuts, when the dialect edits it too.
  const edits = dialect.edits(history ? { ...input.body, ...history } : input.body, attempt.withoutReasoning);
  const capped = outputCapEdits(target, input.body) ?? {};
  // Thinking the dialect turned off stays off: a fitted budget would add it back.
  for (const key of edits.remove) delete capped[key];
  const own = input.targetFields?.(target);
  const payload = editJson(input.jsonBytes, input.body, {
    set: { ...history, ...edits.set, ...capped, ...own, model: target.id, ...(streaming ? {} : { stream: true }) },
    remove: own ? edits.remove.filter((key) => !Object.hasOwn(own, key)) : edits.remove,
  });
  const headers: Record<string, string | number> = {
    ...forwardedHeaders(input.clientHeaders),
    ...(target.headers ?? {}),
    ...authHeaders(target, auth),
    "content-type": "application/json",
    "content-length": payload.length,
  };
  if (target.api === "anthropic-messages" && !headers["anthropic-version"]) headers["anthropic-version"] = "2023-06-01";
  const scanner: StreamScanner = dialect.scanner(input.body, input.clientModel, !streaming);
  const blocks = new SseBlocks();

  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    let committed = false;
    // A client that did not ask to stream gets the answer whole: past the commit point nothing is sent until it is
    // done, so a target that breaks off mid-answer is a failure the request fails over from (held: that point passed).
    let held = false;
    let ttftMs: number | undefined;
    const thinking = new ThinkingProgress();
    let request: http.ClientRequest | undefined;
    let response: http.IncomingMessage | undefined;
    let requestTimer: ReturnType<typeof setTimeout> | undefined;
    let noAnswerIn: number | undefined;
    const latency = () => now() - startedAt;
    const watchdog = new AttemptWatchdog(timeouts, now, (reason: TimeoutReason) =>
      request?.destroy(new Error(`auto-router ${reason} timeout`)),
    );
    let thinkingTimer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = () => {
      watchdog.stop();
      clearTimeout(requestTimer);
      clearTimeout(thinkingTimer);
      signal?.removeEventListener("abort", onAbort);
    };
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      cleanup();
      // A complete answer leaves its socket to the keep-alive pool (the last bytes drain); anything else closes it.
      if (outcome.status === "committed" && outcome.final === "done") response?.resume();
      else if (!response?.complete) request?.destroy();
      resolve(outcome);
    };
    const onAbort = () => request?.destroy(new Error("client disconnected"));
    signal?.addEventListener("abort", onAbort, { once: true });

    let thinkingBegun = false;
    let answering = false;
    /**
     * What the attempt spent, for the runtime to book however it ended (as pi-ai's partial message on the translating
     * path): the usage the stream reported so far and the text it streamed, from which the runtime estimates what was
     * not reported. Nothing before the target's stream began.
     */
    const spent = (stopReason: StopReason, errorMessage?: string) =>
      answering ? answerMessage(target, scanner, stopReason, now(), errorMessage) : undefined;
    const fail = (failure: Failure) =>
      finish({ status: "failed", failure, message: spent("error", failure.message), latencyMs: latency() });
    const classified = (text: string, retryAfter?: string) =>
      classifyFailure(
        { stopReason: "error", errorMessage: text, contextWindow: target.contextWindow, retryAfter },
        now(),
      );
    /** An answer that ended before its commit point: the target's refusal, or an empty response. */
    const nothingAnswered = (): Failure =>
      scanner.refusal !== undefined
        ? refusalFailure(candidate.key, scanner.refusal)
        : emptyResponseFailure(candidate.key);
    const timeoutFailure = (): Failure =>
      noAnswerIn !== undefined
        ? makeFailure("timeout", `${candidate.key}: no response within ${noAnswerIn} ms (request timeout)`)
        : timeoutOf(candidate.key, watchdog.tripped ?? "stall", timeouts, watchdog.inThinking);
    const write = (text: string) => client.write(text, response);
    const forward = () => {
      committed = true;
      attempt.onCommit();
      markCommitted();
      client.open();
    };
    const commit = () => {
      ttftMs = latency();
      watchdog.commit();
      if (streaming) forward();
      else held = true;
    };
    /** The client can send the answer's encrypted reasoning back: the gateway learns who issued it. */
    const handOverReasoning = () => {
      const issued = scanner.issuedReasoning?.();
      if (issued?.length) input.onIssuedReasoning?.(issued, target);
    };
    const done = () => {
      if (held) forward();
      handOverReasoning();
      client.complete(() => scanner.body());
      const answer = answerMessage(target, scanner, scanner.stopReason, now());
      finish({ status: "committed", final: "done", message: answer, ttftMs, latencyMs: latency() });
    };
    /** An answer cut off after the commit point: the client gets an error in its protocol, the loop a final error. */
    const cutOff = (text: string, block?: string) => {
      handOverReasoning();
      const failure = classified(text);
      client.cutOff(block ?? scanner.errorBlock(text, cutOffCategory(failure)));
      finish({
        status: "committed",
        final: "error",
        failure,
        message: answerMessage(target, scanner, "error", now(), text),
        ttftMs,
        latencyMs: latency(),
      });
    };

    const thinkingBegins = () => {
      watchdog.commit();
      thinkingTimer = setTimeout(() => {
        if (settled || committed || held || watchdog.tripped) return;
        commit();
        if (committed) {
          write(pending.join(""));
          pending.length = 0;
        }
      }, THINKING_COMMIT_MS);
    };

    const pending: string[] = [];
    const onBlock = (block: string): void => {
      const step = scanner.block(block);
      if (step.end === "error") {
        const text = redactText(step.errorText ?? "the target sent an error event");
        if (!committed) return fail(classified(text));
        write(pending.join(""));
        pending.length = 0;
        // The client learns which target broke off, as on the translating path: the router's error record, with the
        // target's own error type and message inside it (not its raw JSON).
        return cutOff(committedErrorText(text, candidate.key));
      }
      if (step.text) pending.push(step.text);
      if (committed && step.substantive) watchdog.inThinking = false;
      if (!committed && !held) {
        if (step.thinkingChars || step.thinkingBegun) {
          thinking.add(step.thinkingChars ?? 0, now());
          // Thinking is output, silent or not: the first-token wait is over (only the stall deadline remains, the
          // longer one while a model that sends nothing meanwhile thinks), and sustained thinking (by its characters
          // or its time) decides the commit point, also when no event comes meanwhile.
          if (!thinkingBegun) thinkingBegins();
          thinkingBegun = true;
        }
        if (step.silentThinking) watchdog.inThinking = true;
        else if (step.substantive) watchdog.inThinking = false;
        // An answer its output limit stopped while the model thought is the target's answer all the same: another
        // target asked for as much would be stopped alike.
        const stoppedThinking = step.end === "done" && thinkingBegun && scanner.stopReason === "length";
        if (step.substantive || thinking.sustained(now()) || stoppedThinking) commit();
        else if (step.end === "done") return fail(nothingAnswered());
      }
      if (step.end === "done") {
        write(pending.join(""));
        pending.length = 0;
        done();
      }
    };
    /**
     * An event the scanner could not read (a shape no provider documents): the target's failure, never a throw out of
     * the socket's handler, which would end the gateway's process. Fails over before the commit point.
     */
    const unreadable = (error: unknown) => {
      const why = redactText(error instanceof Error ? error.message : String(error));
      const text = `${candidate.key}: the target sent an event the gateway could not read (${why})`;
      if (committed) {
        // What the events before it said goes out first, as before an error event.
        write(pending.join(""));
        pending.length = 0;
        cutOff(text);
      } else fail(makeFailure("unknown", text));
    };
    const onText = (chunk: string, ended: boolean) => {
      if (settled) return;
      try {
        readText(chunk, ended);
      } catch (error) {
        unreadable(error);
      }
    };
    /**
     * Blocks the scanner leaves unread go to the client as they came, up to one that is not valid JSON (cut short) or
     * lacks the object its client's SDK reads into: that one is the target's failure, as an event the scanner cannot
     * read.
     */
    const forwardUnread = (run: string) => {
      const broken = brokenEvent(run, dialect.holds, dialect.plainEvent);
      const whole = broken ? run.slice(0, broken.at) : run;
      if (whole) {
        scanner.forwardedUnread?.(whole);
        write(whole);
      }
      if (broken) throw new Error(broken.why);
    };
    const readText = (chunk: string, ended: boolean) => {
      watchdog.touch();
      let list: string[];
      // A last block without its blank line that is not valid JSON was cut by the stream's end, which says what
      // happened (an SSE client drops such a block too).
      if (ended) list = blocks.flush().filter((block) => brokenEvent(block) === undefined);
      else {
        const ready = blocks.take(chunk);
        const unread = committed ? (scanner.unreadLength?.(ready) ?? 0) : 0;
        if (unread > 0) forwardUnread(unread === ready.length ? ready : ready.slice(0, unread));
        if (unread === ready.length) return;
        list = SseBlocks.split(unread > 0 ? ready.slice(unread) : ready);
      }
      for (const block of list) {
        onBlock(block);
        if (settled) return;
      }
      if (committed) {
        write(pending.join(""));
        pending.length = 0;
      } else watchdog.arm();
    };
    const onStreamEnd = () => {
      if (settled) return;
      onText("", true);
      if (settled) return;
      if (committed || held) {
        write(pending.join(""));
        if (scanner.completeAtEnd()) return done();
        if (held) return fail(makeFailure("network", endedWithoutResultText(candidate.key)));
        return cutOff(endedWithoutResultText(candidate.key));
      }
      if (scanner.completeAtEnd()) return fail(nothingAnswered());
      fail(makeFailure("network", endedWithoutResultText(candidate.key)));
    };
    const onError = (error: NodeJS.ErrnoException) => {
      if (settled) return;
      if (signal?.aborted) {
        const message = spent("aborted");
        // At the drain deadline the client is told, in its protocol, that it may retry (a client that left is not).
        if (committed && signal.reason instanceof GatewayShutdown)
          client.cutOff(scanner.errorBlock(signal.reason.message));
        if (committed) return finish({ status: "committed", final: "aborted", message, ttftMs, latencyMs: latency() });
        return finish({ status: "aborted", message, latencyMs: latency() });
      }
      const timedOut = watchdog.tripped !== undefined || noAnswerIn !== undefined;
      if (committed) {
        // The upstream connection broke mid-answer (Node's own word for it, "aborted", reads like a client's cancel).
        const text = timedOut
          ? cutOffText(timeoutFailure())
          : committedErrorText(
              `connection lost${error.code ? `, ${error.code}` : `: ${error.message}`}`,
              candidate.key,
            );
        return cutOff(text);
      }
      if (timedOut) return fail(timeoutFailure());
      fail(classified(`${error.message}${error.code && !error.message.includes(error.code) ? ` ${error.code}` : ""}`));
    };

    const onResponse = (res: http.IncomingMessage) => {
      response = res;
      clearTimeout(requestTimer);
      const status = res.statusCode ?? 0;
      res.setEncoding("utf8");
      res.on("error", onError);
      res.on("close", () => {
        if (!settled && !res.complete) onError(Object.assign(new Error("terminated"), { code: "ECONNRESET" }));
      });
      const contentType = String(res.headers["content-type"] ?? "");
      if (status >= 200 && status < 300 && !contentType.includes("text/event-stream")) {
        // A base URL that reaches a web page (a portal, a status page) rather than the API: the target's fault,
        // whatever words the page holds.
        res.resume();
        res.on("end", () => fail(notAnEventStream(candidate.key, status, contentType)));
        return;
      }
      if (status < 200 || status >= 300) {
        let text = "";
        res.on("data", (chunk: string) => {
          if (text.length < ERROR_BODY_LIMIT_CHARS) text += chunk;
        });
        // The same text pi-ai's SDK errors carry (status and body), so both paths classify a failure alike.
        // The Retry-After header too, which pi-ai's errors lack: a target cools down as long as it asked.
        const retryAfter = headerText(res.headers["retry-after"]);
        res.on("end", () => fail(classified(`${status} ${text.slice(0, ERROR_BODY_LIMIT_CHARS)}`, retryAfter)));
        return;
      }
      attempt.onResponse(status, headerRecord(res.headers));
      answering = true;
      res.on("data", (chunk: string) => onText(chunk, false));
      res.on("end", onStreamEnd);
    };

    const send = (mayRetryStale: boolean) => {
      const secure = url.protocol === "https:";
      const req = (secure ? https : http).request({
        ...url,
        method: "POST",
        headers,
        agent: secure ? AGENTS.https : AGENTS.http,
      });
      request = req;
      req.on("response", onResponse);
      req.on("error", (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server had already closed: Node's documented case for one immediate resend,
        // part of the same attempt (nothing reached the target).
        if (mayRetryStale && req.reusedSocket && !response && error.code === "ECONNRESET" && !signal?.aborted)
          return send(false);
        onError(error);
      });
      req.end(payload);
    };
    if (signal?.aborted) return finish({ status: "aborted", latencyMs: 0 });
    if (timeouts.requestMs) {
      requestTimer = setTimeout(() => {
        noAnswerIn = timeouts.requestMs;
        request?.destroy(new Error("auto-router request timeout"));
      }, timeouts.requestMs);
    }
    watchdog.arm();
    send(true);
  });
}
