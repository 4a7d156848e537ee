// /auto-router rate <good|bad> [reason] [--tags a,b]: feedback on the last answer of this session, which feeds
// routing through the `badRatingShareAbove` policy condition.
import type { RatingInput, RatingService, TargetRatings } from "./ratings-book.ts";
import type { CompletionItem, Subcommand } from "../commands/command-types.ts";
import { formatDuration, plural } from "../commands/format.ts";

const RATINGS = ["good", "bad"] as const;
/** Other words a person rates with (`up`, `+1`, a thumb): each stands for good or bad. */
const RATING_WORDS: ReadonlyMap<string, "good" | "bad"> = new Map([
  ["good", "good"],
  ["bad", "bad"],
  ["up", "good"],
  ["down", "bad"],
  ["+", "good"],
  ["-", "bad"],
  ["+1", "good"],
  ["-1", "bad"],
  ["👍", "good"],
  ["👎", "bad"],
]);
const TAGS_FLAG = "--tags";
const USAGE = "rate <good|bad> [reason] [--tags a,b]";

/** `["bad", "too", "slow", "--tags", "latency,tools"]` -> rating, reason "too slow", tags. A string is an error. */
export function parseRateArguments(args: string[]): RatingInput | string {
  const word = args[0];
  // A Map: a plain object would take `constructor` or `toString` for a rating.
  const rating = word === undefined ? undefined : RATING_WORDS.get(word.toLowerCase());
  if (rating === undefined)
    return `${word === undefined ? "" : `"${word}" is not a rating: expected good or bad (or up/down, +1/-1)\n`}usage: /auto-router ${USAGE}`;
  const reason: string[] = [];
  const tags: string[] = [];
  for (let index = 1; index < args.length; index++) {
    const word = args[index]!;
    let value: string | undefined;
    if (word === TAGS_FLAG) {
      value = args[++index];
      if (value === undefined) return `${TAGS_FLAG} needs a value, e.g. ${TAGS_FLAG} wrong,slow`;
    } else if (word.startsWith(`${TAGS_FLAG}=`)) {
      value = word.slice(TAGS_FLAG.length + 1);
    } else {
      reason.push(word);
      continue;
    }
    // `--tags a, b` (a space after the comma): the list goes on in the next word, it does not end in the reason.
    while (value.endsWith(",") && index + 1 < args.length && !args[index + 1]!.startsWith(TAGS_FLAG))
      value += args[++index]!;
    const listed = value
      .split(",")
      .map((text) => text.trim())
      .filter(Boolean);
    if (listed.length === 0) return `${TAGS_FLAG} needs a value, e.g. ${TAGS_FLAG} wrong,slow`;
    for (const tag of listed) if (!tags.includes(tag)) tags.push(tag);
  }
  const input: RatingInput = { rating };
  if (reason.length) input.reason = reason.join(" ");
  if (tags.length) input.tags = tags;
  return input;
}

export function completeRate(prefix: string): CompletionItem[] {
  const space = prefix.lastIndexOf(" ");
  if (space === -1)
    return RATINGS.filter((rating) => rating.startsWith(prefix)).map((rating) => ({
      value: rating,
      label: rating,
      description: `rate the last answer ${rating}`,
    }));
  const word = prefix.slice(space + 1);
  if (!word.startsWith("-") || !TAGS_FLAG.startsWith(word) || prefix.includes(` ${TAGS_FLAG}`)) return [];
  return [
    {
      value: `${prefix.slice(0, space + 1)}${TAGS_FLAG} `,
      label: TAGS_FLAG,
      description: "comma-separated tags, e.g. wrong,slow",
    },
  ];
}

export const formatTargetRatings = (key: string, stats: TargetRatings): string =>
  `${key}: ${stats.bad} bad, ${stats.good} good of the last ${plural(stats.count, "rating")} (${Math.round(stats.badShare * 100)}% bad)`;

export function rateCommand(service: RatingService): Subcommand {
  return {
    name: "rate",
    usage: USAGE,
    description: "Rate the last answer of this session; bad ratings can demote a target (badRatingShareAbove rules)",
    complete: (prefix) => completeRate(prefix),
    async run(args, deps, output) {
      const now = deps.now();
      const unrouted = service.unroutedSince();
      const unroutedText = unrouted
        ? `the last answer, ${formatDuration(now - unrouted.at)} ago, came from ${unrouted.target} chosen directly (not through auto-router) and is not rated`
        : undefined;
      if (args.length === 0) {
        const last = service.lastCompleted();
        const lines = [
          `usage: /auto-router ${USAGE}`,
          ...(unroutedText ? [unroutedText] : []),
          last
            ? `last ${unrouted ? "routed " : ""}answer: request ${last.requestId.slice(0, 8)} on ${last.routeId}, served by ${last.servedTarget}, ${formatDuration(now - last.at)} ago`
            : `no ${unrouted ? "routed " : ""}answer in this session yet`,
        ];
        for (const [key, stats] of Object.entries(service.stats(now)).sort(([a], [b]) => a.localeCompare(b)))
          lines.push(`  ${formatTargetRatings(key, stats)}`);
        return output.info(lines.join("\n"));
      }
      const input = parseRateArguments(args);
      if (typeof input === "string") return output.error(input);
      const result = service.rate(input, now);
      if (!result)
        return output.error(
          `nothing to rate yet: no request of this pi session has been answered${unrouted ? ` through auto-router (${unroutedText})` : ""}`,
        );
      const details = [input.reason ? `"${input.reason}"` : "", input.tags ? `tags ${input.tags.join(",")}` : ""]
        .filter(Boolean)
        .join(", ");
      output.info(
        [
          `rated request ${result.rated.requestId.slice(0, 8)} on ${result.rated.routeId} ${input.rating}${details ? ` (${details})` : ""}${result.replaced ? `, in place of its earlier rating (${result.replaced})` : ""}`,
          formatTargetRatings(result.rated.servedTarget, result.stats),
          ...(unroutedText
            ? [
                `note: ${unroutedText}: this rating is for the routed request before it, ${formatDuration(now - result.rated.at)} ago`,
              ]
            : []),
        ].join("\n"),
      );
    },
  };
}
