// The four routing-* scripts as CliCommands: each names its own flags and turns the joined event stream into a
// JSON-able result and a text report through the pure aggregate modules. The .mjs files in scripts/ only run them.
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { formatIssue, type ConfigIssue } from "../config/issues.ts";
import { parseConfigText } from "../config/parse-config.ts";
import { route } from "../routing/route.ts";
import { routesFilePath } from "../state/state-paths.ts";
import { readModelsFileFacts } from "../state/models-file.ts";
import {
  agentDirectory,
  CliError,
  type CliCommand,
  defaultLogDirectory,
  describeFileError,
  type FlagValues,
  formatReadLine,
  type LogSummary,
} from "./cli-runner.ts";
import { renderSessionHtml } from "./html-report.ts";
import { routerFileAt, sameLocation } from "./report-path.ts";
import { formatQualityStats, QualityStatsAccumulator } from "./quality-stats.ts";
import { replayDecisions, type ModelLookup } from "./replay.ts";
import { formatReplayReport } from "./replay-format.ts";
import { computeRoutingStats, formatRoutingStats } from "./routing-stats.ts";
import { computeSessionStats } from "./session-stats.ts";
import { formatSessionStats } from "./session-stats-format.ts";

/** A non-negative integer flag, or its default; a CliError for anything else. */
export function integerFlag(values: FlagValues, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || !/^\d+$/.test(raw))
    throw new CliError(`--${name}: expected a whole number (0 or more), got "${String(raw)}"`);
  if (!Number.isSafeInteger(value))
    throw new CliError(`--${name}: expected at most ${Number.MAX_SAFE_INTEGER}, got ${raw}`);
  return value;
}

const checkIntegers =
  (...names: string[]) =>
  (values: FlagValues): string | undefined => {
    try {
      for (const name of names) integerFlag(values, name, 0);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

export const routingStatsCommand: CliCommand = {
  name: "routing-stats",
  summary: "Requests, success rate, failover rate; by route, by served provider; planned -> served pairs.",
  usage: ["  --limit <n>       rows per table (default 20)"],
  options: { limit: { type: "string" } },
  validate: checkIntegers("limit"),
  skipTypes: ["candidates"],
  async run({ items, route: routeFilter, values }) {
    const stats = await computeRoutingStats(items, { route: routeFilter });
    return { json: { stats }, text: formatRoutingStats(stats, { limit: integerFlag(values, "limit", 20) }) };
  },
};

export const qualityStatsCommand: CliCommand = {
  name: "routing-quality-stats",
  summary:
    "Ratings joined to requests: positive share by route, provider, model, tier, intent, outcome and tag;\nfailover share among rated requests; recent good and bad ratings.",
  usage: ["  --limit <n>       recent ratings shown of each kind (default 10)"],
  options: { limit: { type: "string" } },
  validate: checkIntegers("limit"),
  skipTypes: ["candidates"],
  async run({ items, route: routeFilter, values, onLeftOut }) {
    const accumulator = new QualityStatsAccumulator({ route: routeFilter, limit: integerFlag(values, "limit", 10) });
    // A rating belongs to the window of the request it rates: one of a request before --since is left out of it, and
    // one given after --until of a request in it is counted.
    onLeftOut((event, side) => accumulator.addLeftOut(event, side));
    for await (const item of items) accumulator.add(item);
    const stats = accumulator.result();
    return { json: { stats }, text: formatQualityStats(stats) };
  },
};

export const sessionStatsCommand: CliCommand = {
  name: "routing-session-stats",
  summary:
    "Daily composition by served model, UVI timeline, latency and cost per model (p50/p90), drift\n(failover after error vs planner drift), errors masked by failover, recent drift rows.",
  usage: [
    "  --limit <n>       days, error rows and drift rows shown (default 14)",
    '  --daily-top <n>   models named per day, the rest summed as "other" (default 5)',
    "  -v, --verbose     add latency and cost buckets per model",
    "  --html <file>     also write one self-contained HTML report with charts; an earlier report there is",
    "                    replaced, but never an event log, a file of the router's or a file that is no HTML page",
  ],
  options: {
    limit: { type: "string" },
    "daily-top": { type: "string" },
    verbose: { type: "boolean", short: "v" },
    html: { type: "string" },
    // Hidden: prints the process's peak RSS to stderr, for bench/session-stats.bench.ts.
    "bench-rss": { type: "boolean" },
  },
  validate: checkIntegers("limit", "daily-top"),
  skipTypes: ["candidates"],
  async run({ items, files, route: routeFilter, values, io }) {
    // Checked before anything is read: the report written over a log it reads would destroy that log.
    const target = values.html;
    const overwritten = typeof target === "string" ? files.find((file) => sameLocation(target, file)) : undefined;
    if (overwritten)
      throw new CliError(
        `--html ${values.html}: that is the event log ${overwritten}, which this report reads and would replace; name another file for the report`,
      );
    const agentDir = agentDirectory(io.processEnv, io.home);
    // Nor over any other file of the router's (its state, its routes file) or one that is no earlier report.
    const ownedThere =
      typeof values.html === "string"
        ? routerFileAt(values.html, {
            stateDirectories: [
              defaultLogDirectory(io.processEnv, io.home),
              join(agentDir, "extensions"),
              // A directory holding a log under the router's name is a state directory too (a copy, another machine's).
              ...files.filter((file) => basename(file).startsWith("auto-router.")).map((file) => dirname(file)),
            ],
            routesFile: routesFilePath(io.processEnv, agentDir),
          })
        : undefined;
    if (ownedThere)
      throw new CliError(
        `--html ${values.html}: ${ownedThere}, and the report would replace it; name another file for the report`,
      );
    const stats = await computeSessionStats(items, {
      route: routeFilter,
      limit: integerFlag(values, "limit", 14),
      dailyTop: integerFlag(values, "daily-top", 5),
    });
    const html = typeof values.html === "string" ? values.html : undefined;
    if (values["bench-rss"]) io.stderr(`bench-max-rss-kb ${process.resourceUsage().maxRSS}`);
    const writeFiles =
      html !== undefined
        ? (log: LogSummary) => {
            const scope = { route: log.route, since: log.since, until: log.until, read: formatReadLine(log) };
            try {
              // Routes, models and spend are no business of other local users: 0600, as the state files and the debug report.
              writeFileSync(html, renderSessionHtml(stats, { generatedAt: new Date(io.now()).toISOString(), scope }), {
                mode: 0o600,
              });
              // An existing report keeps its old mode through writeFileSync; a device (/dev/null, /dev/stdout) is
              // not ours to change.
              if (statSync(html).isFile()) chmodSync(html, 0o600);
            } catch (error) {
              throw new CliError(`cannot write ${html}: ${describeFileError(error)}`);
            }
            // Said on stderr, so stdout stays the report (or the JSON) whatever else is asked for.
            io.stderr(`wrote the HTML report to ${resolve(html)}`);
          }
        : undefined;
    return {
      json: { stats, ...(html !== undefined ? { html } : {}) },
      text: formatSessionStats(stats, { verbose: values.verbose === true }),
      writeFiles,
    };
  },
};

/**
 * Why --config cannot be replayed under, as pi reports its routes file: `file:line:column[ at path]: message` for each
 * error, so a syntax error says where it is.
 */
export const invalidConfigText = (path: string, issues: readonly ConfigIssue[]): string =>
  `invalid config: ${issues
    .filter((issue) => issue.severity === "error")
    .map((issue) => formatIssue(path, issue).replace(/^error: /, ""))
    .join("; ")}`;

export interface ModelCatalogue {
  lookup: ModelLookup;
  /** pi-ai's built-in list was loaded, so a model the lookup lacks is one pi could not resolve either. */
  complete: boolean;
  modelsFile: string;
}

/**
 * Catalogue facts: pi-ai's built-in model list (when pi-ai is installed), then the models of the agent dir's
 * models.json, which pi adds to it; a model in neither has every fact unknown.
 */
export async function loadModelCatalogue(agentDir: string): Promise<ModelCatalogue> {
  const facts = new Map<string, ReturnType<ModelLookup>>();
  let piAi: typeof import("@mariozechner/pi-ai") | undefined;
  try {
    piAi = await import("@mariozechner/pi-ai");
  } catch {
    piAi = undefined;
  }
  for (const provider of piAi?.getProviders() ?? []) {
    for (const model of piAi!.getModels(provider)) {
      facts.set(`${provider}/${model.id}`, {
        contextWindow: model.contextWindow,
        maxTokens: model.maxTokens,
        reasoning: model.reasoning,
        vision: model.input.includes("image"),
        pricing: { input: model.cost.input, output: model.cost.output },
      });
    }
  }
  for (const [key, model] of readModelsFileFacts(agentDir)) facts.set(key, model);
  return {
    lookup: (provider, modelId) => facts.get(`${provider}/${modelId}`),
    complete: piAi !== undefined,
    modelsFile: join(agentDir, "models.json"),
  };
}

export const replayCommand: CliCommand = {
  name: "routing-replay",
  summary:
    "Re-runs the decision core on each logged decision's inputs under another config and reports how many\nrequests would route differently, from what to what, and the estimated cost difference. No model is called.",
  usage: [
    "  --config <file>   routes file to replay under (required)",
    "  --limit <n>       example rows shown (default 10)",
  ],
  options: { config: { type: "string" }, limit: { type: "string" } },
  validate: (values) =>
    typeof values.config === "string" ? checkIntegers("limit")(values) : "--config <routes.json> is required",
  async run({ items, route: routeFilter, values, io }) {
    const path = values.config as string;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError(`cannot read ${path}: ${describeFileError(error)}`);
    }
    const parsed = parseConfigText(text);
    if (!parsed.config) throw new CliError(invalidConfigText(path, parsed.issues));
    // What pi would warn about at start (an unknown key, a typo): the replay uses the file as pi reads it.
    for (const issue of parsed.issues)
      if (issue.severity === "warning") io.stderr(`routing-replay: ${formatIssue(path, issue)}`);
    const catalogue = await loadModelCatalogue(agentDirectory(io.processEnv, io.home));
    const report = await replayDecisions(
      items,
      parsed.config,
      { route, lookupModel: catalogue.lookup, catalogueComplete: catalogue.complete },
      {
        route: routeFilter,
        limit: integerFlag(values, "limit", 10),
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      },
    );
    return {
      json: { config: path, report },
      text: formatReplayReport(report, { configFile: path, modelsFile: catalogue.modelsFile }),
    };
  },
};
