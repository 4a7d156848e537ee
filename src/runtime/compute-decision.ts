// The computing half of a decision: features, snapshot, route() and, in shadow mode, the declared order. It changes
// nothing but the caches it reads through (registry facts, the prompt's intent and input facts); publishing the
// decision (last decision, status line, events, shadow history) is the runtime's.
import type { Context, SimpleStreamOptions } from "@mariozechner/pi-ai";
import type { RouterConfig } from "../config/schema.ts";
import type { ShadowComparison } from "../events/event-types.ts";
import { isPiSummaryRequest } from "../compat/pi-features.ts";
import { extractFeatures } from "../routing/features.ts";
import { route } from "../routing/route.ts";
import type { Decision, ModelFacts, PromptShortcuts, RequestFeatures, RouteRequest } from "../routing/types.ts";
import type { CooldownBook } from "./cooldown-book.ts";
import { inDeclaredOrder } from "./decision-events.ts";
import type { LiveStatus } from "./live-status.ts";
import type { RouterCollaborators } from "./plugin.ts";
import type { PromptMemory } from "./prompt-memory.ts";
import { routeTakesImages } from "./provider-models.ts";
import { buildSnapshot } from "./snapshot.ts";
import type { TargetFacts } from "./target-facts.ts";

/** What decide() computed, before anything is published. */
export interface ComputedDecision {
  config: RouterConfig;
  /** The registry facts it was routed with. */
  models: Record<string, ModelFacts>;
  features: RequestFeatures;
  shortcuts: PromptShortcuts | undefined;
  decision: Decision;
  shadow: ShadowComparison | undefined;
  /** The request is pi's summary of the conversation (compaction): no prompt of the user's. */
  summary: boolean;
}

/** What a decision is computed from. */
export interface DecisionInputs {
  config: RouterConfig;
  facts: TargetFacts;
  prompts: PromptMemory;
  liveStatus: (now: number) => LiveStatus;
  cooldowns: CooldownBook;
  shadow: RouterCollaborators["shadow"];
}

export interface DecisionRequest {
  routeId: string;
  context: Context;
  options: SimpleStreamOptions | undefined;
  /** The request's own shortcuts (the gateway's), used instead of those pi's input event handed over. */
  shortcuts: PromptShortcuts | undefined;
  /** The identity of the request's prompt (RequestState.prompt); undefined: the request is no prompt. */
  prompt: string | undefined;
  /**
   * The targets the request's passthrough can serve (the wildcard proxy: those whose provider advertises the path);
   * route() leaves the others out before it assesses any, so no budget, fallback or order is decided on them.
   */
  serves?: RouteRequest["serves"];
  /** A tool result's image needs no vision target (RequestRouting.decide's flag). */
  toolImagesAsNotes?: boolean;
}

export function computeDecision(inputs: DecisionInputs, request: DecisionRequest, now: number): ComputedDecision {
  const { config, prompts } = inputs;
  const { routeId, context, options } = request;
  const { prompt } = request;
  const knownIntent = prompts.knownIntent(prompt);
  const models = inputs.facts.at(config, now);
  const routeConfig = config.routes[routeId];
  const features = extractFeatures(context, {
    maxTokens: options?.maxTokens,
    intent: knownIntent,
    toolImagesNeedVision: !request.toolImagesAsNotes && (!routeConfig || routeTakesImages(routeConfig, models)),
  });
  if (prompt !== undefined && !knownIntent)
    prompts.rememberIntent({ prompt, intent: features.intent, confidence: features.intentConfidence });
  const { targets, providers, quotaHard } = inputs.liveStatus(now);
  const snapshot = buildSnapshot({
    config,
    models,
    cooldowns: inputs.cooldowns.active(now),
    targets,
    providers,
    quotaHard,
  });
  const summary = prompt === undefined && isPiSummaryRequest(context);
  if (summary) prompts.noteSummary();
  const facts = request.shortcuts ? undefined : prompts.factsFor(prompt);
  const shortcuts = request.shortcuts ?? facts?.shortcuts;
  const ranked = route(
    { routeId, features, shortcuts, interactive: facts?.interactive, serves: request.serves },
    snapshot,
    now,
  );
  const shadowOn = !ranked.refusal && (inputs.shadow?.shadowMode() ?? false);
  const { decision, shadow } = shadowOn ? inDeclaredOrder(ranked) : { decision: ranked, shadow: undefined };
  return { config, models, features, shortcuts, decision, shadow, summary };
}
