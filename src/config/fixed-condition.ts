// A rule condition whose outcome does not depend on the request: `not: {}` matches none (its rule never applies), an
// empty `any: []` or `all: []` asks for nothing and matches every request. Both read as conditions, so such a rule
// would look like it steers routing while it never does, or always does.
import type { ConfigIssue } from "./issues.ts";
import type { RuleCondition } from "./routing-schema.ts";

/**
 * A condition's own fields. `minRatings` and the rating ages do nothing without `badRatingShareAbove`, which is warned
 * about where they are: counted here, so a condition of only those is not also named empty.
 */
const OWN_FIELDS = [
  "intent",
  "tier",
  "minTokens",
  "maxTokens",
  "timeWindow",
  "daysOfWeek",
  "badRatingShareAbove",
  "minRatings",
  "ratingMaxAgeDays",
  "ratingHalfLifeDays",
] as const satisfies ReadonlyArray<keyof RuleCondition>;

type Fixed = { matches: boolean; why: string };

/** What the condition at `path` always does, with the part that makes it so; undefined when the request decides. */
function fixedOutcome(condition: RuleCondition, path: string): Fixed | undefined {
  let decided = OWN_FIELDS.some((field) => condition[field] !== undefined);
  let always: string | undefined;
  if (condition.all) {
    if (condition.all.length === 0) always ??= `${path}.all is empty`;
    for (const [index, part] of condition.all.entries()) {
      const outcome = fixedOutcome(part, `${path}.all[${index}]`);
      if (outcome && !outcome.matches) return outcome;
      if (!outcome) decided = true;
    }
  }
  if (condition.any) {
    if (condition.any.length === 0) always ??= `${path}.any is empty, which asks for nothing`;
    const outcomes = condition.any.map((part, index) => fixedOutcome(part, `${path}.any[${index}]`));
    const matching = outcomes.find((outcome) => outcome?.matches);
    if (matching) always ??= matching.why;
    else if (outcomes.length > 0 && outcomes.every((outcome) => outcome && !outcome.matches))
      return { matches: false, why: `no condition in ${path}.any can match (${outcomes[0]!.why})` };
    else if (outcomes.length > 0) decided = true;
  }
  if (condition.not) {
    const outcome = fixedOutcome(condition.not, `${path}.not`);
    if (outcome?.matches)
      return { matches: false, why: `${path}.not holds a condition every request matches (${outcome.why})` };
    if (!outcome) decided = true;
  }
  if (decided) return undefined;
  return { matches: true, why: always ?? `${path} is empty` };
}

/**
 * A rule's `when` that never matches is an error (as a `minTokens` above its `maxTokens` is: the last good config
 * keeps serving); one written with `all`, `any` or `not` that always matches is a warning (an empty `when`, or none,
 * means "always" and says so).
 */
export function fixedConditionIssue(when: RuleCondition | undefined, path: string): ConfigIssue | undefined {
  if (!when) return undefined;
  const outcome = fixedOutcome(when, path);
  if (!outcome) return undefined;
  if (!outcome.matches)
    return { severity: "error", path, message: `never matches: ${outcome.why}; the rule could never apply` };
  if (!when.all && !when.any && !when.not) return undefined;
  return {
    severity: "warning",
    path,
    message: `matches every request: ${outcome.why}; the rule always applies (leave \`when\` out to say so)`,
  };
}
