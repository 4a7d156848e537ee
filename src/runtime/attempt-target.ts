// One attempt on one target: its credentials are already resolved; the target is started (with its own headers and
// body fields) and streamed into the request's output with error text redacted, under the attempt's timeouts.
import type {
  AssistantMessage,
  AssistantMessageEvent,
  AssistantMessageEventStream,
  Context,
  Model,
  Api,
  SimpleStreamOptions,
} from "@mariozechner/pi-ai";
import type { Timeouts } from "../config/schema.ts";
import type { Candidate } from "../routing/types.ts";
import { runAttempt, type AttemptOutcome } from "./attempt.ts";
import { classifyFailure, makeFailure } from "./classify-failure.ts";
import type { AttemptHooks, RequestClock, RequestRouting } from "./request-environment.ts";
import { redactText } from "../state/redact.ts";
import { rememberedCredentialValues } from "../state/remembered-credentials.ts";
import { AnswerScrub } from "./answer-scrub.ts";
import type { RequestPatch } from "./request-patch.ts";
import { startTarget, type AuthResult, type RegistryLike } from "./start-target.ts";

const textOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * A target's error text goes to pi's output, RPC events and session files: a provider may echo the key or the
 * Authorization header in it, so it is redacted like everything the router writes. Its answer is scrubbed of the
 * credentials the router knows on its way out (answer-scrub.ts).
 * In place: pi-ai hands out one message object as every event's `partial`, and pi may serialise those later.
 */
export function redactedMessage(message: AssistantMessage): AssistantMessage {
  if (message.errorMessage !== undefined) message.errorMessage = redactText(message.errorMessage);
  return message;
}

/**
 * A tool call's id and name as text: pi-ai copies them from the provider's answer as they came, and an
 * OpenAI-compatible server that sends `"id": 7` or no name would otherwise reach code that reads them as strings (the
 * gateway's encoders, pi's session). pi-ai's own word for a missing one is "". Fixed in pi-ai's message itself, which
 * every partial and the final message show.
 */
function namedAsText(content: AssistantMessage["content"]): void {
  for (const block of content) {
    if (block.type !== "toolCall") continue;
    if (typeof block.id !== "string") block.id = textOr(block.id);
    if (typeof block.name !== "string") block.name = textOr(block.name);
  }
}

const textOr = (value: unknown): string =>
  typeof value === "number" || typeof value === "boolean" ? String(value) : "";

/**
 * Forwards one attempt's events with redacted error text, scrubbed of the credentials the router knows (none known:
 * no scrub). pi-ai sets `errorMessage` on the one message object it hands out as every event's `partial` before it
 * emits the error, and pi may serialise earlier events after that (JSON and RPC output), so the partials are forwarded
 * as one shadow copy of the target's message whose error text is redacted and whose content is as it went out.
 */
function redactingForwarder(
  push: (event: AssistantMessageEvent) => void,
  secrets: readonly string[] = rememberedCredentialValues(),
): (event: AssistantMessageEvent) => void {
  const scrub = secrets.length > 0 ? new AnswerScrub(secrets) : undefined;
  let shadow: AssistantMessage | undefined;
  const forward = (event: AssistantMessageEvent) => {
    if ("partial" in event && event.partial) {
      shadow = redactedMessage(Object.assign(shadow ?? ({} as AssistantMessage), event.partial));
      if (scrub) shadow.content = scrub.content(event.partial.content);
      push({ ...event, partial: shadow } as AssistantMessageEvent);
      return;
    }
    if (event.type === "error") redactedMessage(event.error);
    push(event);
  };
  return (event) => {
    // Before the scrub, whose copies of the blocks are what goes out.
    if (event.type === "toolcall_start" || event.type === "toolcall_end") namedAsText(event.partial.content);
    if (event.type === "toolcall_end") namedAsText([event.toolCall]);
    if (scrub) scrub.pass(event, forward);
    else forward(event);
  };
}

export interface TargetAttempt {
  registry: RegistryLike;
  target: Model<Api>;
  auth: AuthResult;
  candidate: Candidate;
  context: Context;
  options: SimpleStreamOptions | undefined;
  routeId: string;
  /** The target's own headers and body fields (with an upstream pin merged in). */
  patch: RequestPatch | undefined;
  timeouts: Required<Timeouts>;
  /** The last target to try: no first-token timeout, it may take as long as it needs. */
  isLast: boolean;
  out: AssistantMessageEventStream;
  /** The client gets the answer only whole (see AttemptInput.holdsAnswer). */
  holdsAnswer?: boolean;
  /** Adds a note to the request's record (the event log's final line); in pi it is shown as a warning too. */
  note?: (text: string) => void;
}

/** What an attempt uses of the request's environment. */
export interface AttemptEnvironment {
  routing: Pick<RequestRouting, "stream">;
  hooks: Pick<AttemptHooks, "onTargetResponse">;
  clock: Pick<RequestClock, "now">;
}

/** Never throws: a target that cannot be started or throws is an `unknown` failure of this attempt. */
export async function attemptTarget(
  env: AttemptEnvironment,
  attempt: TargetAttempt,
  onCommit: () => void,
): Promise<AttemptOutcome> {
  const { registry, target, auth, candidate, context, options, routeId, patch, timeouts, isLast, out } = attempt;
  const watched = {
    firstTokenMs: isLast ? undefined : timeouts.firstTokenMs,
    stallMs: timeouts.stallMs,
    thinkingStallMs: timeouts.thinkingStallMs,
  };
  const userSignal = options?.signal;
  // A signal of the router's own only when a timeout can abort the attempt; otherwise the caller's signal (if any)
  // reaches the target as it is. Creating a controller and its signal costs more than the rest of an attempt's setup.
  const controller = watched.firstTokenMs || watched.stallMs ? new AbortController() : undefined;
  const relayAbort = controller && userSignal ? () => controller.abort(userSignal.reason) : undefined;
  if (relayAbort) userSignal!.addEventListener("abort", relayAbort, { once: true });
  let outcome: AttemptOutcome;
  // The target's response has arrived (pi-ai's onResponse): a JavaScript error pi-ai reports after it is its reading.
  let answered = false;
  try {
    const userOnResponse = options?.onResponse;
    const started = await startTarget({
      registry,
      model: target,
      auth,
      context,
      options,
      onResponse: async (response, responseModel) => {
        answered = true;
        env.hooks.onTargetResponse?.(routeId, candidate, response);
        await userOnResponse?.(response, responseModel);
      },
      signal: controller ? controller.signal : userSignal,
      requestTimeoutMs: timeouts.requestMs || undefined,
      stream: env.routing.stream,
      patch,
      onNote: attempt.note,
    });
    if (typeof started === "string") {
      outcome = {
        status: "failed",
        failure: classifyFailure({ stopReason: "error", errorMessage: started }, env.clock.now()),
        latencyMs: 0,
      };
    } else {
      outcome = await runAttempt({
        stream: started,
        push: redactingForwarder((event) => out.push(event)),
        controller,
        userSignal,
        timeouts: watched,
        contextWindow: target.contextWindow,
        now: env.clock.now,
        label: candidate.key,
        onCommit,
        holdsAnswer: attempt.holdsAnswer,
        answered: () => answered,
      });
    }
  } catch (error) {
    outcome = {
      status: "failed",
      failure: makeFailure("unknown", `auto-router: ${candidate.key}: ${textOf(error)}`),
      latencyMs: 0,
    };
  } finally {
    if (relayAbort) userSignal!.removeEventListener("abort", relayAbort);
  }
  return outcome;
}
