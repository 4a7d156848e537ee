// explain, reload, reset, clear: reading the last decision back, picking up config edits, clearing learned state.
import { join, resolve } from "node:path";
import { packageInfo } from "../package-info.ts";
import { formatDecision, withRefusedCandidates } from "../routing/explain.ts";
import type { Decision, TargetStatus } from "../routing/types.ts";
import { skippedDetailText } from "../runtime/final-error.ts";
import { RESET_SCOPES, type ResetScope } from "../runtime/plugin.ts";
import { refusalNote } from "../runtime/request-state.ts";
import type { AttemptRecord, LastDecision } from "../runtime/router-runtime.ts";
import { describeOrigin, routeCount } from "../state/config-file.ts";
import type { CommandDeps, Subcommand } from "./command-types.ts";
import { formatDuration, plural } from "./format.ts";
import { resolveRouteName } from "./name-resolution.ts";
import { routeCompletions, servedText, unfinishedAttempt } from "./route-commands.ts";
import { unknownWordText } from "./unknown-word.ts";

/** A word the shell passes on as it is: quoted only when needed (a space, a quote, a $), in single quotes. */
const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

/**
 * The command that reads this process's event log, by absolute paths: pi may have been started anywhere, the package
 * installs no command of its own for it (its one bin is the gateway), and the script run without --file reads the
 * log of the shell's environment, which may lack the PI_CODING_AGENT_DIR or AUTO_ROUTER_LOG_DIR this process had.
 */
function routingStatsHint(stateDir: string): string {
  const { root } = packageInfo();
  const logDir = shellWord(resolve(stateDir));
  if (root === "unknown") return `scripts/routing-stats.mjs in the pi-auto-router package, with --file ${logDir}`;
  return `node ${shellWord(join(root, "scripts", "routing-stats.mjs"))} --file ${logDir}`;
}

export const explainCommand: Subcommand = {
  name: "explain",
  usage: "explain [route]",
  maxArguments: 1,
  description: "Why the last request of a route went where it went (from its recorded trace, not recomputed)",
  complete: (prefix, deps) => routeCompletions(prefix, deps),
  async run(args, deps, output) {
    const named = args[0] ? resolveRouteName(args[0], deps.config(), deps.runtime.registry()) : undefined;
    if (named && "error" in named) return output.error(`explain: ${named.error}`);
    const routeId = named?.routeId;
    // The route's last request: asked of it, or sent through it by a tier (main -> think), whichever is newer.
    const last = routeId ? deps.runtime.lastDecision(routeId) : deps.runtime.allLastDecisions()[0];
    if (!last) {
      // Decisions are kept in memory: a separate `pi -p "/auto-router explain"` run has none of an earlier run.
      return output.info(
        `${routeId ? `no request has been routed through ${routeId} in this pi process yet` : "no request has been routed in this pi process yet"}` +
          ` (explain shows this process's requests: in print mode, give it after the prompt, as in pi -p "<prompt>" "/auto-router explain"; earlier runs are in the event log, see ${routingStatsHint(deps.services.stateDir)})`,
      );
    }
    const failovers = last.failovers ? ` after ${plural(last.failovers, "failover")}` : "";
    const servedBy = servedText(last);
    const served = servedBy ? `${servedBy}${failovers}` : `outcome: ${last.outcome ?? "pending"}`;
    // Candidates a hard budget refused at their reservation are skipped for their budget (the reservation is the
    // budget's check, made right before the attempt), not candidates the request passed over or winners never tried.
    const shownAsSkipped = new Set((last.refused ?? []).map((item) => refusalNote(item.key, item.reason)));
    const notes = (last.notes ?? []).filter((note) => !shownAsSkipped.has(note));
    // A request that decided again (after waiting for a cooldown or a quota reset) shows each decision in order,
    // with the attempts made on it and what it noted before the next one: the first is what the request began with.
    const rounds = last.rounds ?? [{ decision: last.decision, at: last.at, firstAttempt: 0, firstNote: 0 }];
    const body: string[] = [];
    rounds.forEach((round, index) => {
      const next = rounds[index + 1];
      const attempts = last.attempts.slice(round.firstAttempt, next?.firstAttempt);
      const refused = (last.refused ?? []).slice(round.firstRefused ?? 0, next?.firstRefused);
      // Times as "for 5 s" and a cooldown in plain words: the provider's raw error is in the attempt's result event.
      const lines = formatDecision(withRefusedCandidates(round.decision, refused), {
        now: deps.now(),
        decidedAt: round.at,
        skippedDetail: skippedDetailText,
      });
      // The decision's "Winner" is who was ranked first; after a failover another target served, so the attempts say
      // what actually happened.
      if (attempts.length) {
        const winner = lines.findIndex((line) => line.startsWith("Winner: "));
        if (winner >= 0) lines[winner] = lines[winner]!.replace(/^Winner: /, "Ranked first: ");
        lines.push("Attempts:", ...attempts.map((attempt, at) => formatAttempt(attempt, round.firstAttempt + at)));
      }
      if (rounds.length === 1) {
        body.push(...lines);
        return;
      }
      const later = index === 0 ? "" : `, made again ${formatDuration(round.at - rounds[0]!.at)} after the first`;
      body.push(`Decision ${index + 1} of ${rounds.length}${later}:`, ...lines);
      const said = (last.notes ?? []).slice(round.firstNote, next?.firstNote).filter((note) => notes.includes(note));
      if (said.length) body.push("Notes:", ...said.map((note) => `  ${note}`));
    });
    if (last.attempts.length) body.push(servedLine(last));
    const trailingNotes = rounds.length === 1 && notes.length ? ["Notes:", ...notes.map((note) => `  ${note}`)] : [];
    output.info(
      [
        `request ${last.requestId.slice(0, 8)} on ${last.decision.requestedRouteId}, ${formatDuration(deps.now() - last.at)} ago, ${served}`,
        ...body,
        ...trailingNotes,
        ...ratingLines(last.decision, deps),
      ].join("\n"),
    );
  },
};

function formatAttempt(attempt: AttemptRecord, index: number): string {
  const facts = [
    attempt.failureKind,
    attempt.status !== undefined ? `HTTP ${attempt.status}` : undefined,
    `${Math.round(attempt.latencyMs)} ms`,
  ].filter((fact): fact is string => fact !== undefined);
  return `  ${index + 1}. ${attempt.key}: ${attempt.outcome} (${facts.join(", ")})`;
}

function servedLine(last: LastDecision): string {
  if (!last.servedKey) return `Served by: none (${last.outcome ?? "pending"})`;
  // Every failure before it, the serving target's own included (tried again after a retry or a wait).
  const failed = last.attempts.filter((attempt) => attempt.outcome === "failed");
  const first = (last.rounds?.[0]?.decision ?? last.decision).candidates[0]?.key;
  // A target ranked before it that was skipped right before its attempt (a hard budget's reservation) is no failure.
  const refused = last.refused?.find((item) => item.key === first);
  const skipped = refused && refusalNote(refused.key, refused.reason);
  const afterFailures = failed.length
    ? `after ${failed.map((attempt) => `${attempt.key} failed (${attempt.failureKind ?? "error"})`).join(", ")}`
    : undefined;
  const firstChoice = first === undefined || first === last.servedKey;
  const notTried = skipped ?? `${first}, ranked first, was not tried`;
  const unfinished = unfinishedAttempt(last);
  const before = afterFailures ?? (firstChoice ? "first choice" : notTried);
  const why =
    unfinished?.outcome === "aborted"
      ? `${before}; its answer was aborted after it started`
      : unfinished
        ? `${before}; its answer broke off after it started (${unfinished.failureKind ?? "error"}), so the request failed`
        : (afterFailures ?? (firstChoice ? "first choice, answered" : `answered; ${notTried}`));
  return `Served by: ${last.servedKey} (${why})`;
}

/** Per-target rating stats of the decision's targets, as the plugins report them now (ratings feed routing). */
function ratingLines(decision: Decision, deps: CommandDeps): string[] {
  const now = deps.now();
  const status: Record<string, Partial<TargetStatus>> = {};
  for (const plugin of deps.runtime.plugins) {
    for (const [key, value] of Object.entries(plugin.targetStatus?.(now) ?? {}))
      status[key] = { ...status[key], ...value };
  }
  const keys = [...new Set([...decision.candidates.map((c) => c.key), ...decision.skipped.map((s) => s.key)])];
  const lines = keys.flatMap((key) => {
    const { ratingCount, badRatingShare } = status[key] ?? {};
    if (!ratingCount || badRatingShare === undefined) return [];
    const bad = Math.round(badRatingShare * ratingCount);
    return [
      `  ${key}: ${bad} bad, ${ratingCount - bad} good of the last ${ratingCount} (${Math.round(badRatingShare * 100)}% bad)`,
    ];
  });
  return lines.length ? ["Ratings:", ...lines] : [];
}

export const reloadCommand: Subcommand = {
  name: "reload",
  usage: "reload",
  maxArguments: 0,
  description: "Re-read the routes file and re-register the auto-router models",
  async run(_args, deps, output) {
    // Reloading reports the file's issues itself (a warning, or an error when the file cannot be used); the command
    // says what it did and how many there were, instead of showing them a second time.
    deps.reload();
    const loaded = deps.services.config.state;
    const note = deps.services.config.restartNote();
    const summary =
      loaded.origin === "file"
        ? `reloaded ${loaded.file}: ${routeCount(loaded)}${note ? `; ${note}` : ""}`
        : `${loaded.file}: ${describeOrigin(loaded)}`;
    const errors = loaded.issues.filter((issue) => issue.severity === "error").length;
    const warnings = loaded.issues.length - errors;
    const counts = [errors ? plural(errors, "error") : "", warnings ? plural(warnings, "warning") : ""].filter(Boolean);
    // A file that could not be used is the command's failure (pi -p exits 1); warnings alone are a report.
    const say = loaded.origin !== "file" && errors ? output.error : errors ? output.warn : output.info;
    say(`${summary}${counts.length ? `; ${counts.join(", ")} (shown above)` : ""}`);
  },
};

export const resetCommand: Subcommand = {
  name: "reset",
  usage: `reset [${RESET_SCOPES.join("|")}]`,
  maxArguments: 1,
  description: "Clear learned state (never the event log)",
  complete: (prefix) => RESET_SCOPES.filter((s) => s.startsWith(prefix)).map((s) => ({ value: s, label: s })),
  async run(args, deps, output) {
    const scope = (args[0] ?? "cooldowns") as ResetScope;
    if (!RESET_SCOPES.includes(scope))
      return output.error(unknownWordText("reset", "scope", scope, RESET_SCOPES, `/auto-router ${resetCommand.usage}`));
    if (
      scope === "all" &&
      output.confirm &&
      !(await output.confirm(
        "Reset auto-router state?",
        "Clears cooldowns, circuit breakers, latency averages and revert holds. The event log is kept.",
      ))
    ) {
      return output.info("reset cancelled");
    }
    const now = deps.now();
    const done: string[] = [];
    if (scope === "cooldowns" || scope === "all")
      done.push(`${plural(deps.runtime.cooldowns.clear(now), "cooldown")} cleared`);
    if (scope === "latency" || scope === "all") {
      deps.runtime.latency.clear();
      done.push("latency averages cleared");
    }
    if (scope === "all") done.push(`${plural(deps.runtime.books.revert?.clear() ?? 0, "revert hold")} cleared`);
    // The breakers belong to their feature.
    const breakers = deps.runtime.collaborators.breakers;
    const summary = breakers?.resetState(scope, now);
    if (summary) done.push(summary);
    if (scope === "breakers" && !breakers) done.push("no circuit breaker is loaded");
    output.info(`${done.join("; ")}. The event log is never deleted.`);
  },
};

export const clearCommand: Subcommand = {
  name: "clear",
  usage: "clear",
  maxArguments: 0,
  description: "Hide the long listing shown above the editor (pi 0.73; newer pi shows listings in the chat)",
  async run(_args, _deps, output) {
    if (output.clear) output.clear();
    else
      output.info(
        "nothing to clear: a long listing is shown above the editor only on pi 0.73 (newer pi puts it in the chat; print mode prints it)",
      );
  },
};
