// /auto-router health [--probe] [--json]: per provider used by a route, credentials, models, cooldowns, breakers,
// the usage API's reachability, the last error and the unhealthy mark; --probe sends one 1-token request per target.
import type { Subcommand } from "../commands/command-types.ts";
import { formatDuration, formatTimeLeft, plural, table } from "../commands/format.ts";
import type { ProviderStatus, TargetStatus } from "../routing/types.ts";
import { windowCountText } from "../routing/uvi.ts";
import {
  checkHealth,
  setupProblem,
  type ProviderHealth,
  type QuotaSourceHealth,
  type UsageReadings,
} from "./health-check.ts";
import { providerCheckOf, type HealthBook, type ProbeResult } from "./health-book.ts";
import { unknownWordText } from "../commands/unknown-word.ts";
import { configNotice } from "../commands/route-commands.ts";

const FLAGS = ["--probe", "--json"] as const;

function describeProbe(probe: ProbeResult | undefined): string {
  if (!probe) return "-";
  const status = probe.status !== undefined ? `${probe.status} ` : "";
  return probe.ok
    ? `ok ${status}${probe.latencyMs} ms`
    : `failed ${status}${probe.failureKind ?? ""} ${probe.latencyMs} ms: ${probe.error ?? ""}`.trim();
}

/** A usage API as health shows it; `probeHint` adds that `--probe` fetches it now (false in the debug report). */
export function describeSource(source: QuotaSourceHealth | undefined, now: number, probeHint = true): string {
  if (!source) return "none (pacing from response headers and budgets only)";
  const windows = windowCountText(source.windows ?? 0);
  if (source.live)
    return source.ok
      ? `${source.id} reachable, ${source.latencyMs} ms, ${windows}`
      : `${source.id} unreachable after ${source.latencyMs} ms: ${source.error}`;
  const age = source.fetchedAt === undefined ? undefined : `${formatDuration(Math.max(0, now - source.fetchedAt))} ago`;
  const hint = probeHint ? " (--probe fetches it now)" : "";
  if (source.ok) return `${source.id} ok, ${windows}, fetched ${age}${hint}`;
  return `${source.id} ${source.error === "not fetched yet" ? "not fetched yet" : `failing: ${source.error}`}${age ? `; last good reading ${age}` : ""}${hint}`;
}

export function formatHealth(reports: ProviderHealth[], now: number): string {
  if (reports.length === 0) return "no route has a target: nothing to check";
  const lines: string[] = [];
  for (const report of reports) {
    const problem = setupProblem(report);
    const state = report.unhealthy
      ? `UNHEALTHY (${report.unhealthy})`
      : problem
        ? `NOT OK (${problem})`
        : report.consecutiveFailures > 0
          ? `healthy, ${plural(report.consecutiveFailures, "failed check")} in a row`
          : "healthy";
    lines.push(`${report.provider}: ${state}; credentials ${report.credentials}`);
    const source = report.quotaSource;
    lines.push(`  quota source: ${describeSource(source, now)}`);
    if (report.lastError)
      lines.push(
        `  last error ${formatDuration(Math.max(0, now - report.lastError.at))} ago: ${report.lastError.message}`,
      );
    const rows = report.targets.map((target) => [
      target.key,
      target.resolvable ? "yes" : "NO",
      target.credentials,
      target.cooldowns.length
        ? target.cooldowns
            .map((entry) => `${entry.routeId} ${entry.kind} ${formatTimeLeft(entry.until - now)}`)
            .join(", ")
        : "-",
      target.breaker === "closed"
        ? "closed"
        : `${target.breaker}${target.breakerUntil !== undefined ? ` ${formatTimeLeft(target.breakerUntil - now)}` : ""}`,
      target.probeOff
        ? "off (probe: false)"
        : target.probeHeldBack
          ? `not sent: ${target.probeHeldBack}`
          : describeProbe(target.probe),
    ]);
    // After a probe its result is what was asked for: it comes right after the target, so a narrow terminal, which
    // leaves out the right-most columns first, still shows it.
    const probed = report.targets.some((target) => target.probe !== undefined || target.probeHeldBack !== undefined);
    const order = probed ? [0, 5, 1, 2, 3, 4] : [0, 1, 2, 3, 4, 5];
    const header = ["  target", "model", "credentials", "cooldown", "breaker", "probe"];
    lines.push(
      table(
        order.map((column) => header[column]!),
        rows.map((row) => order.map((column) => (column === 0 ? `  ${row[0]}` : row[column]!))),
      ),
    );
  }
  return lines.join("\n");
}

export function healthCommand(book: HealthBook, usage: UsageReadings): Subcommand {
  return {
    name: "health",
    usage: "health [--probe] [--json]",
    description:
      "Provider health: credentials, models, cooldowns, breakers, usage API; --probe sends a 1-token request per target",
    complete: (prefix) => {
      const words = prefix.split(/\s+/);
      const last = words.at(-1) ?? "";
      return FLAGS.filter((flag) => flag.startsWith(last) && !words.slice(0, -1).includes(flag)).map((flag) => ({
        value: [...words.slice(0, -1), flag].join(" "),
        label: flag,
      }));
    },
    async run(args, deps, output) {
      const unknown = args.filter((arg) => !(FLAGS as readonly string[]).includes(arg));
      const usageLine = "/auto-router health [--probe] [--json]";
      const word = unknown[0];
      // A word that is no flag (`extra`, `json`) is not called an unknown flag; one that is a flag without its dashes
      // is named with them.
      if (word !== undefined && !word.startsWith("-")) {
        const flag = FLAGS.find((known) => known === `--${word.toLowerCase()}`);
        return output.error(
          `health: unexpected "${word}"${flag ? `; did you mean "${flag}"?` : ""}\nusage: ${usageLine}`,
        );
      }
      if (word !== undefined) return output.error(unknownWordText("health", "flag", word, FLAGS, usageLine));
      // An invalid routes file without a good copy: its routes have no targets, for a reason "no route has a target"
      // did not give.
      const notice = configNotice(deps);
      if (notice?.declared)
        return output.error(
          `auto-router: ${notice.text}\nno target to check: the file's routes have their targets once it is fixed`,
        );
      const registry = deps.runtime.registry();
      const config = deps.config();
      const now = deps.now();
      const targetStatus: Record<string, Partial<TargetStatus>> = {};
      for (const plugin of deps.runtime.plugins) Object.assign(targetStatus, plugin.targetStatus?.(now) ?? {});
      // Under a hard budget a probe is a request like any other: an account the budget blocks is not paid for.
      const providerStatus: Record<string, ProviderStatus> = {};
      if (config.budgets?.policy === "hard")
        for (const plugin of deps.runtime.plugins) Object.assign(providerStatus, plugin.providerStatus?.(now) ?? {});
      const hardBudgetBlock = (account: string) => {
        const budget = providerStatus[account]?.budget;
        return budget?.level === "blocked" ? `hard budget: ${budget.detail}` : undefined;
      };
      const reports = await checkHealth({
        config,
        registry,
        now: deps.now,
        usage,
        targetStatus,
        cooldowns: deps.runtime.cooldowns.active(now),
        records: (provider) => book.record(provider, now),
        probe: args.includes("--probe"),
        hardBudgetBlock,
        reserveProbe: async (probe) => {
          for (const plugin of deps.runtime.plugins) {
            const refusal = await plugin.reserveProbe?.(probe);
            if (refusal) return refusal.reason;
          }
          return undefined;
        },
        stream: deps.runtime.stream,
        onProbes: (provider, results) => void book.apply(provider, providerCheckOf(results, deps.now())),
        // A probe is a paid request: the budget counts what it used and ends its reservation.
        onProbeAnswer: (answer) => {
          for (const plugin of deps.runtime.plugins) plugin.onProbeAnswer?.(answer);
        },
      });
      output.info(
        args.includes("--json")
          ? JSON.stringify({ at: new Date(now).toISOString(), providers: reports })
          : formatHealth(reports, deps.now()),
      );
    },
  };
}
