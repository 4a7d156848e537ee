// What the steps of one route() call share (route.ts runs them in order): the request, the snapshot, the decision
// being built and its trace, and the constraint the tier and rules add up to.
import type { Constraint } from "../config/routing-schema.ts";
import { type ConstraintSources, requestConstraint } from "./constraints.ts";
import type { ConditionContext, ScopedRule } from "./policy-rules.ts";
import type { mergePreferences } from "./preferences.ts";
import type { RankMode } from "./rank.ts";
import type { Decision, DecisionTrace, RouteRequest, RoutingSnapshot, RuleTrace } from "./types.ts";

/**
 * A rule of the active route whose condition matched, or is evaluated per target (`badRatingShareAbove`), in the
 * order the rules apply: highest priority first, declared order (globals first) among equal priorities.
 */
export interface ActiveRule {
  scoped: ScopedRule;
  line: RuleTrace;
  perTarget: boolean;
  /** The targets a per-target rule matched and acted on, each with why. */
  matchedLabels: string[];
  /** The targets a per-target rule's condition did not match, each with why (once per target). */
  unmatchedLabels?: string[];
  /** The excluding rules before it that it yielded to: applied after them, it would have left no target. */
  yieldedTo?: string[];
  /** No target was left when its turn came: the rules that had left every one out (none: no target reached it). */
  noTargetLeft?: string[];
  /** It changed at least one target it was applied to (left it out, preferred or demoted it). */
  acted?: boolean;
}

/** What the steps of one route() call share. */
export interface RouteState {
  request: RouteRequest;
  snapshot: RoutingSnapshot;
  now: number;
  decision: Decision;
  trace: DecisionTrace;
  hints: string[];
  rules: RuleTrace[];
  /** The condition context of request-level rules: the tier in effect (shortcut, rule or intent hint). */
  context: ConditionContext;
  constraint: Constraint;
  /** Which rule asked for each requirement of `constraint` the request itself does not need. */
  constraintBy: ConstraintSources;
  hintConstraint?: Constraint;
  requestedRules: ScopedRule[];
}

export type ActiveRules = ActiveRule[];

export interface Ranking {
  preferences: ReturnType<typeof mergePreferences>;
  mode: RankMode;
  orderLength: number;
  outputTokens: number;
}

export function startDecision(request: RouteRequest, snapshot: RoutingSnapshot, now: number): RouteState {
  const { features } = request;
  const hints: string[] = [];
  const rules: RuleTrace[] = [];
  const trace: DecisionTrace = {
    tokens: request.shortcuts?.tokens ?? [],
    tierSource: "none",
    intent: features.intent,
    intentConfidence: features.intentConfidence,
    estimatedTokens: features.estimatedTokens,
    contextClass: features.contextClass,
    rules,
    hints,
  };
  const decision: Decision = {
    requestedRouteId: request.routeId,
    routeId: request.routeId,
    candidates: [],
    skipped: [],
    trace,
    declaredOrder: [],
  };
  // Every property present from the start, in one order: the condition evaluator sees one object shape.
  const context: ConditionContext = { features, tier: undefined, now, timeZone: snapshot.timeZone };
  return {
    request,
    snapshot,
    now,
    decision,
    trace,
    hints,
    rules,
    context,
    constraint: requestConstraint(features),
    constraintBy: {},
    requestedRules: [],
  };
}
