// /auto-router debug: the one report a user attaches to a bug. Versions and load path, the config file and its
// issues, the state directory's files, every route's targets (resolution, credential kind, availability),
// cooldowns, breakers, health marks, UVI readings and the usage APIs they come from, and the last decisions per
// route from the event log. The whole text goes through the same redaction as the event log, and it holds no prompt
// text (the log has none).
import { join } from "node:path";
import type { RouterConfig } from "../config/schema.ts";
import { LegacyEventReader } from "../events/legacy-events.ts";
import { parseEventLine } from "../events/read-events.ts";
import { classifyFailure } from "../runtime/classify-failure.ts";
import type { QuotaStatus } from "../routing/types.ts";
import { formatUvi } from "../routing/uvi.ts";
import { REDACTED, redactedJson, redactText } from "../state/redact.ts";
import { isCredentialHeaderName } from "../state/remembered-credentials.ts";
import { inventoryStateDir, readTailLines, writePrivateFile } from "../state/state-inventory.ts";
import { describeOrigin } from "../state/config-file.ts";
import { EVENT_LOG_NAME } from "../state/state-paths.ts";
import { redactRedisUrl } from "../team/team-settings.ts";
import { describeBackendLines } from "../team/team-plugin.ts";
import type { CommandDeps, Subcommand } from "./command-types.ts";
import { formatTimeLeft, plural } from "./format.ts";
import { configIssueLines, describeRoute, unfinishedAnswerText } from "./route-commands.ts";

export const DEBUG_REPORT_FILE = "auto-router.debug-report.txt";
export const DECISIONS_PER_ROUTE = 5;

export interface HostInfo {
  piVersion: string;
  nodeVersion: string;
  packageVersion: string;
  loadPath: string;
  runsFromBundle: boolean;
  /** What became of the bundle's V8 code cache in this process (pi-extension.ts). */
  codeCache?: string;
}

interface DecisionLine {
  routeId: string;
  text: string;
}

/** The last DECISIONS_PER_ROUTE decisions of each route in the live log's tail, oldest first. */
export function recentDecisions(lines: string[]): Map<string, string[]> {
  const legacy = new LegacyEventReader(
    (errorText, time) => classifyFailure({ stopReason: "error", errorMessage: errorText }, time).kind,
  );
  const byRequest = new Map<string, DecisionLine & { time: string; planned?: string }>();
  const finished = new Map<string, string>();
  // Each request's last result per target: the served target's tells an answer cut off or stopped after it started.
  const results = new Map<string, Map<string, { outcome: string; failureKind?: string }>>();
  for (const line of lines) {
    const parsed = parseEventLine(line, legacy);
    if (!("event" in parsed) || !parsed.event.requestId) continue;
    for (const carried of parsed.events ?? [parsed.event]) {
      if (carried.type !== "result" || !carried.requestId) continue;
      const byTarget = results.get(carried.requestId) ?? new Map();
      byTarget.set(carried.data.target, { outcome: carried.data.outcome, failureKind: carried.data.failureKind });
      results.set(carried.requestId, byTarget);
    }
    const { event } = parsed;
    if (event.type === "decision") {
      const data = event.data;
      // Listed under the route that served it (as the scripts count it), naming the one asked for when a tier moved it.
      const routeId = data.routeId || event.routeId || data.requestedRouteId || "?";
      const moved = data.requestedRouteId && data.requestedRouteId !== routeId ? ` from ${data.requestedRouteId}` : "";
      byRequest.set(event.requestId!, {
        routeId,
        time: event.ts,
        planned: data.plannedTarget,
        text: `${data.intent}${data.tier ? ` @${data.tier}${moved}` : moved}${data.refusal ? `, refused: ${data.refusal}` : ""}`,
      });
    } else if (event.type === "final") {
      const data = event.data;
      // A served target whose answer broke off or was stopped did not fail the request by itself: said as status says it.
      const served = data.servedTarget ? results.get(event.requestId!)?.get(data.servedTarget) : undefined;
      const unfinished =
        served && (served.outcome === "failed-after-commit" || served.outcome === "aborted") && data.servedTarget
          ? unfinishedAnswerText(served.outcome, data.servedTarget, served.failureKind)
          : undefined;
      const ended = data.refusedBy
        ? `${data.outcome} by ${data.refusedBy} (the target refused to answer)`
        : (unfinished ?? `${data.outcome}${data.servedTarget ? ` by ${data.servedTarget}` : ""}`);
      finished.set(
        event.requestId!,
        `${ended}${data.failovers ? `, ${plural(data.failovers, "failover")}` : ""}${data.failureKinds.length ? ` [${data.failureKinds.join(", ")}]` : ""}`,
      );
    }
  }
  const result = new Map<string, string[]>();
  for (const [requestId, decision] of byRequest) {
    const list = result.get(decision.routeId) ?? [];
    list.push(
      `${decision.time} ${requestId.slice(0, 8)} planned ${decision.planned ?? "-"} (${decision.text}): ${finished.get(requestId) ?? "unfinished"}`,
    );
    result.set(decision.routeId, list.slice(-DECISIONS_PER_ROUTE));
  }
  return result;
}

/**
 * A target's extra body with each string under a field named as a credential (`api_key`, `auth_token`, at any depth)
 * masked, as the router remembers them (rememberBodyCredentials): a provider reads a token from it whatever it looks
 * like. Other fields (`provider`, `max_tokens`) stay: they are what a bug report needs.
 */
function withoutCredentialValues(value: unknown, underCredentialName = false): unknown {
  if (typeof value === "string") return underCredentialName ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => withoutCredentialValues(item, underCredentialName));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([name, child]) => [
      name,
      withoutCredentialValues(child, underCredentialName || isCredentialHeaderName(name)),
    ]),
  );
}

/**
 * The config with the values of the targets' extra headers masked: a header a provider reads a token from
 * (`private-token`, `x-custom-token`) holds one whatever it looks like, and the names are what a bug report needs.
 * Their extra body fields named as credentials are masked too.
 */
function withoutCredentialFields(config: RouterConfig): RouterConfig {
  const routes = Object.fromEntries(
    Object.entries(config.routes).map(([id, route]) => [
      id,
      {
        ...route,
        targets: route.targets.map((target) => ({
          ...target,
          ...(target.headers
            ? { headers: Object.fromEntries(Object.keys(target.headers).map((name) => [name, REDACTED])) }
            : {}),
          ...(target.body ? { body: withoutCredentialValues(target.body) as typeof target.body } : {}),
        })),
      },
    ]),
  );
  // The team store's URL by field: a malformed one (an unencoded `/` or space in the password, `redis//...`) is
  // beyond what the text redaction's URL pattern recognises.
  const state = config.state?.url ? { ...config.state, url: redactRedisUrl(config.state.url) } : config.state;
  return { ...config, routes, ...(state ? { state } : {}) };
}

export function buildDebugReport(deps: CommandDeps, host: HostInfo): string {
  const now = deps.now();
  const loaded = deps.services.config.state;
  const stateDir = deps.services.stateDir;
  const config = deps.config();
  const issues = configIssueLines(deps);
  const lines: string[] = [
    `auto-router debug report, ${new Date(now).toISOString()}`,
    "",
    "## versions",
    `pi ${host.piVersion}, node ${host.nodeVersion}, pi-auto-router ${host.packageVersion}`,
    `loaded from ${host.loadPath} (${host.runsFromBundle ? `bundle, V8 code cache: ${host.codeCache ?? "unknown"}` : "TypeScript sources"})`,
    "",
    "## config",
    // As status words it: an invalid file with no good copy has none to keep, and its routes fail every request.
    `${loaded.file}: ${describeOrigin(loaded)}`,
    ...(issues.length ? issues : ["  no issues"]),
    // Through the text redaction too: it also takes a URL's password out (a team-mode state.url, say), which the
    // event log's faster JSON check does not look for.
    redactText(redactedJson(withoutCredentialFields(config))),
    "",
    "## state",
    // Where the state lives: in team mode the files below are this machine's views, the state is in Redis.
    ...describeBackendLines(deps.services.backend.describe(now)),
    stateDir,
    // The previous report is not state: this one replaces it.
    ...inventoryStateDir(stateDir)
      .filter((file) => file.name !== DEBUG_REPORT_FILE)
      .map((file) => `  ${file.name}: ${file.bytes} bytes, ${file.health}`),
    "",
    "## routes",
  ];
  // The route ids of an invalid file without a good copy have no targets to tabulate (an empty table said nothing).
  if (loaded.origin === "declared")
    lines.push(`${Object.keys(config.routes).join(", ")}: no targets known while the routes file is invalid`, "");
  else for (const routeId of Object.keys(config.routes)) lines.push(describeRoute(routeId, deps), "");
  const live = deps.runtime.liveStatus(now);
  lines.push("## cooldowns, breakers, health, budgets, UVI");
  const cooldowns = Object.entries(deps.runtime.cooldowns.active(now));
  lines.push(
    ...(cooldowns.length
      ? cooldowns.map(
          ([key, entry]) =>
            `  cooldown ${key.replace("::", " ")}: ${entry.kind}, ${formatTimeLeft(entry.until - now)} left`,
        )
      : ["  no cooldowns"]),
  );
  for (const [key, status] of Object.entries(live.targets)) {
    if (status.breaker && status.breaker.state !== "closed")
      lines.push(
        `  breaker ${key}: ${status.breaker.state}${status.breaker.until ? `, until ${new Date(status.breaker.until).toISOString()}` : ""}`,
      );
  }
  for (const [provider, status] of Object.entries(live.providers)) {
    if (status.unhealthy) lines.push(`  health ${provider}: ${status.unhealthy}`);
    if (status.budget) lines.push(`  budget ${provider}: ${status.budget.level}, ${status.budget.detail}`);
    const uvi = (who: string, quota: QuotaStatus) =>
      lines.push(
        `  uvi ${who}: ${quota.level}${quota.uvi !== undefined ? ` ${formatUvi(quota.uvi)}` : ""}, ${quota.detail}`,
      );
    if (status.quota) uvi(provider, status.quota);
    for (const scoped of status.scopedQuota ?? []) uvi(`${provider} (${scoped.models})`, scoped);
  }
  for (const plugin of deps.runtime.plugins) lines.push(...(plugin.debugLines?.(now) ?? []));
  lines.push(
    `  quota hard mode: ${live.quotaHard ? "on" : "off"}`,
    "",
    `## last ${DECISIONS_PER_ROUTE} decisions per route (${EVENT_LOG_NAME})`,
  );
  const decisions = recentDecisions(readTailLines(join(stateDir, EVENT_LOG_NAME)));
  if (decisions.size === 0) lines.push("  none logged");
  for (const [routeId, entries] of decisions) lines.push(`${routeId}:`, ...entries.map((entry) => `  ${entry}`));
  return redactText(lines.join("\n"));
}

export function debugCommand(host: () => HostInfo): Subcommand {
  return {
    name: "debug",
    usage: "debug",
    maxArguments: 0,
    description: "A redacted diagnostic report (versions, config, state files, routes, decisions) for bug reports",
    async run(_args, deps, output) {
      // The report reads the state files and the log from disk: this window's pending writes go first.
      await deps.services.flush();
      const report = buildDebugReport(deps, host());
      const file = join(deps.services.stateDir, DEBUG_REPORT_FILE);
      try {
        writePrivateFile(file, `${report}\n`);
        output.info(`report written to ${file} (redacted; read it before attaching it to a bug report)\n${report}`);
      } catch (error) {
        output.info(`could not write ${file}: ${error instanceof Error ? error.message : String(error)}\n${report}`);
      }
    },
  };
}
