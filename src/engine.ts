// What both front doors need, built in one place: the services (config holder, stores, event log), the plugins and
// the RouterRuntime. index.ts (pi) and the gateway (`pi-auto-router serve`) each call createEngine once and only add
// their own edges: pi's UI, commands and events, or HTTP.
import type { CommandDeps, FeaturePlugin, Subcommand } from "./commands/command-types.ts";
import { SUBCOMMANDS } from "./commands/dispatch.ts";
import { environmentProblems } from "./config/environment.ts";
import type { RouterConfig } from "./config/schema.ts";
import { createFeatures } from "./plugins.ts";
import { createTeamPlugin } from "./team/team-plugin.ts";
import { piRetryDelayMs, readPiSettings } from "./state/pi-settings.ts";
import { rememberModelsFileCredentials } from "./state/models-file.ts";
import type { PluginContext } from "./runtime/plugin.ts";
import type { StatusSink } from "./runtime/request-environment.ts";
import { catalogueRegistryWith } from "./runtime/model-catalogue.ts";
import { emptyReverts, revertStateSchema } from "./runtime/revert-policy.ts";
import { RouterRuntime } from "./runtime/router-runtime.ts";
import { salvageRecords } from "./state/salvage.ts";
import { type Notify, openServices, type Services, type ServicesOptions } from "./runtime/services.ts";
import type { StreamFunction } from "./runtime/start-target.ts";
import { describeLoad } from "./state/config-file.ts";

export interface EngineOptions {
  agentDir: string;
  processEnv: Record<string, string | undefined>;
  warn: Notify;
  /** Where the runtime reports decisions and attempts (pi's status line); silent when absent. */
  status?: StatusSink;
  /** The config the runtime routes with, derived from the file's (the gateway adds one-target routes). */
  deriveConfig?: (config: RouterConfig) => RouterConfig;
  /** Tests: keep state in memory. */
  inMemory?: boolean;
  /** Settings this front door reads at start besides the shared ones, and what applies them (see ServicesOptions). */
  startSettings?: ServicesOptions["startSettings"];
  stream?: StreamFunction;
  now?: () => number;
}

export interface Engine {
  services: Services;
  plugins: FeaturePlugin[];
  runtime: RouterRuntime;
  /** The built-in subcommands plus every plugin's. */
  subcommands: Subcommand[];
  /** What commands run against; `switchModel` is pi's (the gateway has no current model to switch). */
  commandDeps(
    switchModel?: CommandDeps["switchModel"],
    reload?: () => string[],
    unknownTargets?: CommandDeps["unknownTargets"],
    statusLineWarnings?: CommandDeps["statusLineWarnings"],
  ): CommandDeps;
  /** Plugins' background work (quota fetches); call when a registry is attached (again after pi's /reload). */
  start(): void;
  /**
   * What the first prompt (or request) waits for: the team store's first sync, then what plugins must know first (a
   * floor's first balance). Bounded; await it before routing, after start().
   */
  ready(): Promise<void>;
  /** Closes plugins, then flushes and closes every store and the event log. */
  close(): Promise<void>;
}

export const SILENT_STATUS: StatusSink = {
  onAttempt: () => {},
  onCommitted: () => {},
  onWaiting: () => {},
  onFinished: () => {},
};

export function createEngine(options: EngineOptions): Engine {
  const now = options.now ?? (() => Date.now());
  const services = openServices({
    agentDir: options.agentDir,
    processEnv: options.processEnv,
    warn: options.warn,
    inMemory: options.inMemory,
    startSettings: options.startSettings,
  });
  const config = options.deriveConfig
    ? () => options.deriveConfig!(services.config.current)
    : () => services.config.current;
  const piSettings = readPiSettings(options.agentDir);
  // Redacted from the first request on, also when an upstream quotes the key of a provider not called yet.
  rememberModelsFileCredentials(options.agentDir, options.processEnv);
  // A switch written `off` or a mistyped name would otherwise be ignored while the user believes it applies.
  for (const problem of environmentProblems(options.processEnv)) options.warn(`auto-router: ${problem}`);
  let runtimeRef: RouterRuntime | undefined;
  const pluginContext: PluginContext = {
    stateDir: services.stateDir,
    config,
    registry: () => runtimeRef?.registry(),
    openStore: (name, defaults, parse, salvage, flushDelayMs) =>
      services.openStore(name, defaults, parse, salvage, flushDelayMs),
    claim: (name, ttlMs) => services.backend.claim(name, ttlMs),
    piSettings: () => piSettings,
    record: (type, data, ids) => services.events?.append({ type, data, sessionId: runtimeRef?.sessionId, ...ids }),
    warn: options.warn,
    processEnv: options.processEnv,
    teamMode: services.backend.settings.backend === "redis",
    machine: services.backend.settings.machine,
    stateChanged: () => options.status?.onStateChanged?.(),
    now,
  };
  const features = createFeatures(pluginContext);
  const plugins = [...features.plugins, createTeamPlugin(services.backend, config, features.limitedProviders)];
  const openRevertStore = () =>
    services.openStore(
      "revert",
      emptyReverts,
      (raw) => revertStateSchema().parse(raw),
      salvageRecords(revertStateSchema, emptyReverts),
    );
  // In team mode the revert holds are opened with the other stores, so the team connection's first sync (which the
  // first prompt waits for) reads the team's holds too: opened at the first request, the store would join after that
  // sync and the request would decide on this machine's stale view, ending a hold another machine made. The file store
  // reads its file when opened, so there it stays opened on first use (a cooldown-expiry route never uses it).
  const teamRevertStore = pluginContext.teamMode ? openRevertStore() : undefined;
  const runtime = new RouterRuntime({
    plugins,
    collaborators: features.collaborators,
    config,
    configError: (routeId) => services.config.requestError(routeId),
    configWhere: (path) => services.config.where(path),
    cooldowns: services.cooldowns,
    revertStore: teamRevertStore ? () => teamRevertStore : openRevertStore,
    latency: services.latency,
    events: services.events,
    status: options.status ?? SILENT_STATUS,
    warn: options.warn,
    stream: options.stream,
    now: options.now,
    catalogue: catalogueRegistryWith(options.agentDir),
    piRetryDelayMs: piRetryDelayMs(piSettings.values),
  });
  runtimeRef = runtime;
  const subcommands = [...SUBCOMMANDS, ...plugins.flatMap((plugin) => plugin.subcommands ?? [])];
  return {
    services,
    plugins,
    runtime,
    subcommands,
    commandDeps: (switchModel, reload, unknownTargets, statusLineWarnings) => ({
      runtime,
      services,
      config,
      reload: reload ?? (() => describeLoad(services.config.reload())),
      switchModel: switchModel ?? (async () => false),
      now,
      unknownTargets: unknownTargets ?? (() => []),
      statusLineWarnings,
    }),
    start() {
      for (const plugin of plugins) plugin.start?.();
    },
    async ready() {
      await services.backend.ready();
      await Promise.all(plugins.map((plugin) => plugin.ready?.()));
    },
    async close() {
      await Promise.allSettled(plugins.map((plugin) => plugin.close?.()));
      await services.close();
    },
  };
}
