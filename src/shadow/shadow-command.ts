// /auto-router shadow [show [N]|enable|disable]: route in declared order while recording what the full ranking
// would have done, and compare the two.
import { SHADOW_HISTORY, summarizeShadow, type ShadowService } from "./shadow-history.ts";
import type { Subcommand } from "../commands/command-types.ts";
import { formatDuration, plural } from "../commands/format.ts";
import { switchAction, unknownWordText } from "../commands/unknown-word.ts";

const ACTIONS = ["show", "enable", "disable"] as const;
const USAGE = "shadow [show [N]|enable|disable]";
/** Disagreements listed by `shadow show`; the rest are counted. */
export const SHOWN_MISMATCHES = 5;

const percent = (part: number, whole: number) => `${whole ? Math.round((part / whole) * 100) : 0}%`;

export function shadowText(service: ShadowService, now: number, last: number): string {
  const enabled = service.enabled();
  const lines = [
    enabled
      ? `shadow mode: enabled${service.forcedOn() ? " by AUTO_ROUTER_SHADOW=1" : ""} (requests are routed in declared order; the full ranking is only recorded)`
      : "shadow mode: disabled (requests are routed by the full ranking)",
  ];
  const summary = summarizeShadow(service.comparisons(), last);
  if (summary.count === 0) {
    lines.push(
      enabled
        ? "no request routed in shadow mode yet"
        : "no comparisons recorded (/auto-router shadow enable starts recording)",
    );
    return lines.join("\n");
  }
  lines.push(
    `last ${plural(summary.count, "request")}: the ranking chose the declared first target in ${summary.matches} (${percent(summary.matches, summary.count)}), the same whole order in ${summary.sameOrder} (${percent(summary.sameOrder, summary.count)})`,
  );
  for (const [routeId, route] of Object.entries(summary.byRoute).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${routeId}: ${route.matches}/${route.count} match (${percent(route.matches, route.count)})`);
  }
  if (summary.mismatches.length) {
    lines.push("recent disagreements (declared first vs ranked first):");
    for (const record of summary.mismatches.slice(0, SHOWN_MISMATCHES)) {
      lines.push(
        `  ${formatDuration(now - record.at)} ago ${record.routeId}: ${record.declaredOrder[0] ?? "-"} vs ${record.routedOrder[0] ?? "-"}`,
      );
    }
  }
  return lines.join("\n");
}

export function shadowCommand(service: ShadowService): Subcommand {
  return {
    name: "shadow",
    usage: USAGE,
    maxArguments: { show: 2, enable: 1, disable: 1, on: 1, off: 1 },
    description: "Shadow mode: route in declared order, record the ranking, compare them (match rate)",
    complete: (prefix) =>
      ACTIONS.filter((action) => action.startsWith(prefix)).map((action) => ({ value: action, label: action })),
    async run(args, deps, output) {
      const action = switchAction(args[0] ?? "show", ACTIONS);
      if (!(ACTIONS as readonly string[]).includes(action))
        return output.error(unknownWordText("shadow", "action", action, ACTIONS, `/auto-router ${USAGE}`));
      if (action === "disable" && service.forcedOn()) {
        return output.error(
          "shadow mode stays on: AUTO_ROUTER_SHADOW=1 is set in pi's environment; unset it and restart pi to turn it off",
        );
      }
      if (action === "enable" || action === "disable") {
        service.setEnabled(action === "enable");
        return output.info(
          action === "enable"
            ? "shadow mode enabled: requests now go in declared order; /auto-router shadow show compares with the ranking"
            : "shadow mode disabled: requests are routed by the full ranking again",
        );
      }
      const last = args[1] === undefined ? SHADOW_HISTORY : Number(args[1]);
      if (!Number.isInteger(last) || last <= 0)
        return output.error(
          `shadow show: "${args[1]}" is not a count: expected a whole number above 0 (at most ${SHADOW_HISTORY} are kept)\nusage: /auto-router ${USAGE}`,
        );
      output.info(shadowText(service, deps.now(), last));
    },
  };
}
