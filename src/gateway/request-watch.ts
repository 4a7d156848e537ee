// What the gateway keeps of one routed request while the runtime serves it (chat and proxy alike): the client's
// connection as the request's abort signal, each attempt for the `x-auto-router-attempts` header, the target that
// served it and how the request ended.
import type { FastifyReply } from "fastify";
import type { Failure } from "../runtime/classify-failure.ts";
import type { RequestEnd, RequestObserver } from "../runtime/failover-stream.ts";
import { attemptsHeader, type AttemptRecord, GatewayShutdown } from "./errors.ts";
import { headerText } from "./header-text.ts";

const watches = new WeakMap<object, RequestWatch>();

/**
 * The routed requests in flight, which a drain ends with the shutdown error: at once those waiting for a resting
 * target (a wait of up to failover.cooldownWaitMs would hold the drain for nothing the client gets), the others at
 * its deadline.
 */
export class InFlightRequests {
  private readonly watches = new Set<RequestWatch>();
  private drainStarted = false;

  get size(): number {
    return this.watches.size;
  }

  get draining(): boolean {
    return this.drainStarted;
  }

  add(watch: RequestWatch): void {
    this.watches.add(watch);
  }

  delete(watch: RequestWatch): void {
    this.watches.delete(watch);
  }

  /** The drain began: each request waiting now ends, and so does one that starts a wait later. */
  drain(): void {
    this.drainStarted = true;
    for (const watch of this.watches) if (watch.waiting) watch.endForShutdown();
  }

  /** The drain deadline: every request still in flight ends. */
  endAll(): void {
    for (const watch of this.watches) watch.endForShutdown();
  }
}

/** The watch of the routed request a response belongs to (the access log reads its route, target and end). */
export const watchOf = (response: object): RequestWatch | undefined => watches.get(response);

export class RequestWatch {
  readonly controller = new AbortController();
  readonly attempts: AttemptRecord[] = [];
  servedKey: string | undefined;
  end: RequestEnd | undefined;
  /** The failure that cut the served answer off after its commit point (a refusal mid-answer, a dropped stream). */
  cutOff: Failure | undefined;
  /** The client got a target's refusal as its protocol's own (refusal.ts), from the target servedKey names. */
  refused = false;
  /** Targets tried again without the client's encrypted reasoning items, which they refused (another account's). */
  private readonly reasoningLeftOut = new Set<string>();
  /** Between the runtime's onWait and the next attempt: waiting for a target to come back. */
  waiting = false;
  private attemptStartedAt: number;
  private closed = false;
  private readonly afterClose: Array<() => void> = [];
  private readonly onClose = () => {
    if (!this.reply.raw.writableEnded) this.controller.abort(new Error("client disconnected"));
  };

  constructor(
    /** The gateway's clock and its set of in-flight requests (aborted together at the drain deadline). */
    private readonly core: { now(): number; inFlight: InFlightRequests },
    private readonly reply: FastifyReply,
    /** The route the request named; a tier's route once the router chose one (`@reasoning`). */
    public routeId: string,
    /** The served attempt's status in the attempts header (the proxy passes the target's own). */
    private readonly servedStatus: () => number | undefined = () => 200,
  ) {
    this.attemptStartedAt = core.now();
    core.inFlight.add(this);
    reply.raw.on("close", this.onClose);
    watches.set(reply.raw, this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops the request's target: the gateway could not write its answer on (the client was told so). */
  abandon(why: string): void {
    this.controller.abort(new Error(why));
  }

  /** Ends the request for the gateway's shutdown: its client is told so (see shutDown). */
  endForShutdown(): void {
    this.controller.abort(new GatewayShutdown());
  }

  /** The request was ended by the drain (not by its client): the client is told so. */
  get shutDown(): boolean {
    return this.controller.signal.reason instanceof GatewayShutdown;
  }

  /** The router's id of the request, in the event log's lines (`requestId`). */
  private requestId: string | undefined;

  readonly observer: RequestObserver = {
    onStart: (requestId) => void (this.requestId = requestId),
    // An attempt's time starts with it, not at the end of the one before: a wait for a resting target between them
    // is no target's time.
    onAttemptStart: () => {
      this.waiting = false;
      this.attemptStartedAt = this.core.now();
    },
    onWait: () => {
      this.waiting = true;
      if (this.core.inFlight.draining) this.endForShutdown();
    },
    onRoute: (routeId) => void (this.routeId = routeId),
    onCommitted: (candidate) => {
      this.servedKey = candidate.key;
      this.attempts.push({
        target: candidate.key,
        status: this.servedStatus(),
        ms: this.core.now() - this.attemptStartedAt,
      });
    },
    onAttemptResult: (candidate, outcome) => {
      if (outcome.status === "committed" && outcome.final === "error") this.cutOff = outcome.failure;
      if (outcome.status === "failed")
        this.attempts.push({
          target: candidate.key,
          kind: outcome.failure.kind,
          status: outcome.failure.status,
          ms: outcome.latencyMs,
        });
      this.attemptStartedAt = this.core.now();
    },
    onReasoningLeftOut: (candidate) => void this.reasoningLeftOut.add(candidate.key),
    onEnd: (value) => void (this.end = value),
  };

  /** The route, the attempts so far and, once committed, the target serving the answer. */
  routingHeaders(): Record<string, string> {
    return {
      ...(this.requestId ? { "x-auto-router-request-id": this.requestId } : {}),
      "x-auto-router-route": this.routeId,
      // A provider's or model's id in models.json may hold any character: the two headers naming targets escape them.
      "x-auto-router-attempts": headerText(attemptsHeader(this.attempts)),
      ...(this.servedKey ? { "x-auto-router-served-by": headerText(this.servedKey) } : {}),
      // The serving target refused the encrypted reasoning items the client sent back, and answered without them.
      ...(this.servedKey && this.reasoningLeftOut.has(this.servedKey)
        ? { "x-auto-router-ignored-reasoning": "encrypted_content" }
        : {}),
    };
  }

  /** Runs `callback` once the handler is done with the request (at once if it is): its end is known then. */
  whenClosed(callback: () => void): void {
    if (this.closed) callback();
    else this.afterClose.push(callback);
  }

  close(): void {
    this.reply.raw.off("close", this.onClose);
    this.core.inFlight.delete(this);
    this.closed = true;
    for (const callback of this.afterClose.splice(0)) callback();
  }
}
