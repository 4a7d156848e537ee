// The text of routing-replay's report: a warning naming the config's targets replayed as missing, then the counts,
// the from -> to changes and example rows.
import type { ReplayReport } from "./replay.ts";
import {
  formatCount,
  formatSection,
  formatTable,
  formatUsd,
  formatUtcTime,
  plural,
  UTC_TIME_HEADER,
} from "./text-format.ts";

/** What the script read, named in the report's note on missing targets. */
export interface ReplayFormatOptions {
  /** The routes file replayed under. */
  configFile?: string;
  /** The models.json read beside pi's catalogue. */
  modelsFile?: string;
}

/** The note above the report: targets replayed as missing, or that none could be checked. */
function formatTargetNote(report: ReplayReport, options: ReplayFormatOptions): string | undefined {
  const modelsFile = options.modelsFile ?? "models.json";
  if (!report.targetsChecked)
    return `Note: pi's built-in model catalogue could not be loaded, so every target is assumed to exist (${modelsFile} and the log were read).`;
  if (report.missingTargets.length === 0) return undefined;
  const count = report.missingTargets.length;
  const width = Math.max(...report.missingTargets.map((target) => target.key.length));
  const rows = report.missingTargets.map(
    (target) =>
      `  ${target.key.padEnd(width)}  ${
        target.requests === 0 ? "in no replayed request" : `skipped in ${plural(target.requests, "replayed request")}`
      }`,
  );
  return [
    `Warning: ${count === 1 ? "a target" : `${count} targets`} in ${options.configFile ?? "the config"} ${count === 1 ? "was" : "were"} not found in pi's model catalogue, ${modelsFile} or the log,`,
    `so ${count === 1 ? "it is" : "they are"} replayed as missing, as the router skips a model it cannot find (missing-model):`,
    ...rows,
  ].join("\n");
}

export function formatReplayReport(report: ReplayReport, options: ReplayFormatOptions = {}): string {
  const note = formatTargetNote(report, options);
  const skipped = Object.entries(report.notReplayable)
    .map(([reason, count]) => `${reason}: ${count}`)
    .join(", ");
  const summary = [
    `decisions        ${formatCount(report.decisions)}`,
    `replayed         ${formatCount(report.replayed)}${skipped ? ` (not replayed: ${skipped})` : ""}`,
    `same target      ${formatCount(report.same)}`,
    `different        ${formatCount(report.different)}`,
    // The assumption behind both counts, said even when it moved nothing: a reader comparing with the live plans sees why.
    `moved by state   ${formatCount(report.movedByState)} of the ${formatCount(report.replayed)} replayed: the state at the time moved the config's first choice (the log skipped a target for a cooldown, an open breaker, a failing health check, a quota window or a budget, demoted or promoted one for its quota's pace, or fell back to declared order with every target over a soft budget); the replay takes that state as given`,
    `estimated cost   ${formatUsd(report.cost.loggedUsd)} logged -> ${formatUsd(report.cost.replayedUsd)} replayed (${report.cost.differenceUsd >= 0 ? "+" : ""}${formatUsd(report.cost.differenceUsd)}) over ${plural(report.cost.compared, "changed request")}${report.cost.unknown ? `; ${formatCount(report.cost.unknown)} without an estimate` : ""}`,
  ].join("\n");
  const changes =
    report.changes.length === 0
      ? "(none)"
      : formatTable(
          ["from", "to", "requests"],
          report.changes.map((change) => [change.from, change.to, formatCount(change.requests)]),
          ["left", "left", "right"],
        );
  const examples =
    report.examples.length === 0
      ? "(none)"
      : formatTable(
          [UTC_TIME_HEADER, "request", "route", "from", "to", "cost"],
          report.examples.map((row) => [
            formatUtcTime(row.ts),
            row.requestId,
            row.routeId,
            row.from,
            row.to,
            `${formatUsd(row.loggedCostUsd)} -> ${formatUsd(row.replayedCostUsd)}`,
          ]),
        );
  return [
    ...(note ? [note] : []),
    formatSection("Replay", summary),
    formatSection("Changes", changes),
    formatSection("Examples", examples),
  ].join("\n\n");
}
