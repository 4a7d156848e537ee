// /auto-router uvi [show|enable|disable|refresh]: quota pacing per provider, and where each window came from.
import type { Subcommand } from "../commands/command-types.ts";
import { formatDuration, table } from "../commands/format.ts";
import {
  formatQuotaPercent as percent,
  formatUvi,
  openWindowCount,
  windowCountText,
  worse,
  type WindowAssessment,
} from "../routing/uvi.ts";
import type { QuotaService } from "./uvi-settings.ts";
import { switchAction, unknownWordText } from "../commands/unknown-word.ts";

const ACTIONS = ["show", "enable", "disable", "refresh"] as const;

function show(service: QuotaService, now: number): string {
  const settings = service.settings();
  const { critical, stressed, surplus, surplusElapsed } = settings.thresholds;
  const mode = settings.hard
    ? "hard mode: stressed providers are excluded"
    : "soft mode: stressed providers are demoted";
  // Off, pacing demotes, excludes and promotes nothing (the plugin gives routing no quota status): the modes and
  // thresholds are what it does once enabled, not what it does now.
  const enabled = service.enabled();
  // Said where it was switched off, so a user who never ran `uvi disable` (the earlier router's settings.json
  // switch, a routes file's `uvi.enabled`) learns what to change.
  const by = enabled ? undefined : (service.disabledBy?.() ?? settings.forcedOff ?? settings.enabledBy);
  const state = enabled
    ? `enabled, ${mode}`
    : `${by ? `disabled by ${by}` : "disabled"}, so no provider is demoted, excluded or promoted for its quota; once enabled, ${mode}`;
  const lines = [
    `quota pacing (UVI = used share / elapsed share of a window): ${state}`,
    `${enabled ? "" : "once enabled: "}critical ≥ ${critical} or used up (excluded), stressed ≥ ${stressed} (${settings.hard ? "excluded" : "demoted"}), surplus ≤ ${surplus} with ≥ ${percent(surplusElapsed)} elapsed (promoted); a monthly budget's window is at most stressed`,
  ];
  const rows: string[][] = [];
  for (const [provider, quota] of Object.entries(service.assess(now)).sort(([a], [b]) => a.localeCompare(b))) {
    const row = (window: WindowAssessment, models: string, mark: string) =>
      rows.push([
        provider,
        window.name,
        percent(window.usedFraction),
        // A refilling window has no elapsed share of its own (uvi.ts REFILLING_ELAPSED_FRACTION) and is full at its reset.
        window.refills ? "refills" : percent(window.elapsedFraction),
        formatUvi(window.uvi),
        window.level,
        window.refills
          ? `full in ${formatDuration(window.resetsAt - now)}`
          : `in ${formatDuration(window.resetsAt - now)}`,
        window.source ?? "-",
        models,
        mark,
      ]);
    // Provider-wide windows pace every model ("all"), a scoped one only its models. "← worst" marks the window that
    // decides: the worst provider-wide one, and a scope's worst where it is worse than that for its models.
    const shared = quota.shared;
    for (const window of shared?.windows ?? []) row(window, "all", window === shared!.worst ? "← worst" : "");
    for (const scoped of quota.scoped) {
      const decides = !shared || worse(scoped.assessment.worst, shared.worst);
      for (const window of scoped.assessment.windows)
        row(window, scoped.label, decides && window === scoped.assessment.worst ? "← worst" : "");
    }
  }
  const sources = service.sources().list();
  // A usage API that answered (last time) with no window open now: "not fetched" would contradict its line below.
  const answered = sources.filter((source) => {
    const reading = service.sources().reading(source.id);
    return reading?.fetchedAt !== undefined && !reading.stale;
  });
  lines.push(
    rows.length
      ? table(["provider", "window", "used", "elapsed", "UVI", "level", "resets", "source", "models", ""], rows)
      : answered.length
        ? `no open quota window: ${answered.map((source) => source.id).join(", ")} answered with no open window (none in the plan, not started yet, or already reset), and no rate-limit headers give one`
        : `no quota windows known yet (${sources.some((source) => service.sources().reading(source.id)) ? "no usable usage-API answer (see sources)" : "usage APIs not fetched"}, no rate-limit headers seen)`,
  );
  if (sources.length) {
    lines.push("sources:");
    for (const source of sources) {
      const reading = service.sources().reading(source.id);
      const age = reading?.fetchedAt === undefined ? undefined : `${formatDuration(now - reading.fetchedAt)} ago`;
      const state = !reading
        ? "not fetched yet"
        : reading.stale
          ? `stale (${reading.error ?? "failed"})${age ? `; last good reading ${age}` : "; no good reading yet"}`
          : `ok, ${windowCountText(openWindowCount(reading.windows, now))}, fetched ${age}${reading.shared ? " by another process" : ` in ${reading.latencyMs} ms`}`;
      lines.push(`  ${source.id} (${source.provider}): ${state}`);
    }
  }
  return lines.join("\n");
}

export function uviCommand(service: QuotaService): Subcommand {
  return {
    name: "uvi",
    usage: "uvi [show|enable|disable|refresh]",
    maxArguments: 1,
    description: "Quota pacing (UVI) per provider and window; enable/disable it; refetch the usage APIs",
    complete: (prefix) =>
      ACTIONS.filter((action) => action.startsWith(prefix)).map((action) => ({ value: action, label: action })),
    async run(args, deps, output) {
      const action = switchAction(args[0] ?? "show", ACTIONS);
      if (!(ACTIONS as readonly string[]).includes(action))
        return output.error(
          unknownWordText("uvi", "action", action, ACTIONS, `/auto-router uvi [${ACTIONS.join("|")}]`),
        );
      if (action === "enable" || action === "disable") {
        // Stored whatever the environment says: AUTO_ROUTER_UVI=0 overrides it in its own process only.
        service.setEnabled(action === "enable");
        const forcedOff = service.settings().forcedOff;
        if (action === "enable" && forcedOff)
          return output.warn(
            `quota pacing enabled (stored), but it stays off in this pi process: ${forcedOff} is set in its environment; a pi started without it paces`,
          );
        return output.info(`quota pacing ${action}d`);
      }
      if (action === "refresh") await service.refresh();
      output.info(show(service, deps.now()));
    },
  };
}
