// The wildcard proxy: any path no built-in handler serves goes to a target whose provider advertises that path
// prefix (`providers.<id>.endpointPrefixes`). The engine still chooses the targets (the same decision, cooldowns,
// breaker and preferences as a chat request) and hears every attempt's result; only the HTTP forwarding lives here.
// JSON bodies are held (the model field is rewritten per target and a failover resends them); any other body is
// streamed through once, without failover, since it cannot be replayed. Answers are always streamed back
// (proxy-forward.ts forwards one attempt).
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RouterConfig } from "../config/schema.ts";
import { restTarget, settleAttempt } from "../runtime/attempt-consequences.ts";
import { classifyFailure, type Failure } from "../runtime/classify-failure.ts";
import { routeSettings } from "../runtime/route-settings.ts";
import type { GatewayCore } from "./chat-handler.ts";
import { advertisedPrefixes, advertises } from "./endpoint-prefixes.ts";
import { attemptsHeader, GatewayError, type AttemptRecord } from "./errors.ts";
import { defaultTargetForPath, resolveModelName, unknownModelText } from "./model-names.ts";
import { requestShortcuts } from "./provider-preferences.ts";
import { commitResponse, forwardAttempt, isTargetFailure } from "./proxy-forward.ts";

function notServed(config: RouterConfig, method: string, path: string): GatewayError {
  const served = [...advertisedPrefixes(config)].map(
    ([provider, prefixes]) => `${provider}: ${prefixes.length ? prefixes.join(", ") : "every path"}`,
  );
  return new GatewayError(
    404,
    "not_found",
    `no endpoint ${method} ${path}: no provider advertises it; proxied prefixes: ${served.join("; ") || "(none: set providers.<id>.endpointPrefixes in the routes file)"}`,
  );
}

export async function serveProxy(core: GatewayCore, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const runtime = core.engine.runtime;
  const config = runtime.config();
  const [path, query = ""] = request.url.split(/(?=\?)/, 2) as [string, string?];
  const body = request.body;
  const jsonBody =
    body !== null && typeof body === "object" && !(body instanceof Readable) && !Buffer.isBuffer(body)
      ? (body as Record<string, unknown>)
      : undefined;
  const header = (name: string) =>
    typeof request.headers[name] === "string" ? (request.headers[name] as string) : undefined;
  const name = (typeof jsonBody?.model === "string" ? jsonBody.model : undefined) ?? header("x-model");

  let routeId: string;
  if (name !== undefined) {
    const choice = resolveModelName(name, config, runtime.registry());
    if (!choice) throw new GatewayError(404, "not_found", unknownModelText(name, config));
    routeId = choice.kind === "route" ? choice.routeId : core.directRoutes.add(choice.provider, choice.modelId);
  } else {
    const target = defaultTargetForPath(config, path);
    if (!target) throw notServed(config, request.method, path);
    routeId = core.directRoutes.add(target.provider, target.modelId);
  }
  const shortcuts = requestShortcuts(undefined, jsonBody?.provider, header("x-provider"));
  const requestId = randomUUID();
  const now = core.now();
  const decision = runtime.decide(
    requestId,
    routeId,
    { messages: [{ role: "user", content: `${request.method} ${path}`, timestamp: now }] },
    undefined,
    now,
    { shortcuts },
  );
  const prefixes = advertisedPrefixes(runtime.config());
  const candidates = decision.candidates.filter((candidate) => advertises(prefixes.get(candidate.provider), path));
  if (candidates.length === 0) {
    if (!decision.candidates.some((candidate) => prefixes.has(candidate.provider)))
      throw notServed(config, request.method, path);
    throw new GatewayError(
      503,
      "overloaded",
      `no target of route ${decision.routeId} that serves ${path} is available now: ${decision.skipped.map((s) => `${s.key}: ${s.reason}`).join("; ") || "every one was ruled out"}`,
      { "x-should-retry": "true" },
    );
  }

  const settings = routeSettings(runtime.config(), decision.routeId);
  const replayable = jsonBody !== undefined || body === undefined || body === null;
  const maxAttempts = replayable ? settings.maxAttempts : 1;
  const controller = new AbortController();
  core.inFlight.add(controller);
  const onClose = () => {
    if (!reply.raw.writableEnded) controller.abort(new Error("client disconnected"));
  };
  reply.raw.on("close", onClose);
  const state = { requestId, routeId: decision.routeId, attempts: 0 };
  const attempts: AttemptRecord[] = [];
  let last: { failure: Failure; status?: number; text: string; headers: Headers } | undefined;
  try {
    for (const candidate of candidates) {
      if (state.attempts >= maxAttempts || controller.signal.aborted) break;
      if (candidate.probe && !runtime.claimProbe(candidate.key)) continue;
      const model = runtime.registry()?.find(candidate.provider, candidate.modelId);
      if (!model) continue;
      state.attempts += 1;
      runtime.record(requestId, decision.routeId, "attempt", {
        attempt: state.attempts,
        target: candidate.key,
        proxy: `${request.method} ${path}`,
      });
      const started = core.now();
      const result = await forwardAttempt(core, candidate, model, {
        method: request.method,
        path,
        query,
        headers: request.headers,
        jsonBody,
        rawBody: replayable ? undefined : body,
        routeId: decision.routeId,
        signal: controller.signal,
      });
      const latencyMs = core.now() - started;
      if (result.kind === "aborted" || controller.signal.aborted) {
        settleAttempt(runtime, state, candidate, { status: "aborted", latencyMs }, settings.policy);
        return void reply.hijack();
      }
      if (result.kind === "response" && !isTargetFailure(result.response.status)) {
        attempts.push({ target: candidate.key, status: result.response.status, ms: latencyMs });
        await commitResponse(reply, result.response, {
          "x-auto-router-route": decision.routeId,
          "x-auto-router-served-by": candidate.key,
          "x-auto-router-attempts": attemptsHeader(attempts),
        });
        const outcome = controller.signal.aborted
          ? { status: "aborted" as const, latencyMs: core.now() - started }
          : {
              status: "committed" as const,
              final: "done" as const,
              ttftMs: latencyMs,
              latencyMs: core.now() - started,
            };
        if (result.response.status < 400 || outcome.status === "aborted")
          settleAttempt(runtime, state, candidate, outcome, settings.policy);
        else
          settleAttempt(
            runtime,
            state,
            candidate,
            {
              status: "failed",
              failure: classifyFailure(
                { stopReason: "error", errorMessage: `${result.response.status} (proxied ${path})` },
                core.now(),
              ),
              latencyMs,
            },
            settings.policy,
          );
        return;
      }
      const { failure } = settleAttempt(
        runtime,
        state,
        candidate,
        { status: "failed", failure: result.failure, latencyMs },
        settings.policy,
      );
      attempts.push({
        target: candidate.key,
        kind: failure.kind,
        ...(result.kind === "response" ? { status: result.response.status } : {}),
        ms: latencyMs,
      });
      last = {
        failure,
        status: result.kind === "response" ? result.response.status : undefined,
        text: result.kind === "response" ? result.text : "",
        headers: result.kind === "response" ? result.response.headers : new Headers(),
      };
      restTarget(runtime, decision.routeId, candidate, failure);
      if (!failure.failover) break;
    }
    if (controller.signal.aborted) return void reply.hijack();
    const headers = {
      "x-auto-router-route": decision.routeId,
      "x-auto-router-attempts": attemptsHeader(attempts),
      "x-should-retry": last?.failure.retryable ? "true" : "false",
    };
    if (last?.status !== undefined) {
      // The last upstream answer, passed through as it was (never masked), when no target could do better.
      const type = last.headers.get("content-type");
      reply
        .code(last.status)
        .headers({ ...headers, ...(type ? { "content-type": type } : {}) })
        .send(runtime.redact(last.text));
      return;
    }
    throw new GatewayError(
      503,
      "api_error",
      `every target of route ${decision.routeId} that serves ${path} failed: ${attempts.map((a) => `${a.target}: ${a.kind ?? a.status}`).join("; ") || "none could be tried"}`,
      headers,
    );
  } finally {
    reply.raw.off("close", onClose);
    core.inFlight.delete(controller);
  }
}
