// Opens what one pi session of the extension needs: the config (with last-good fallback and a file watcher), the
// state stores and the event log, all in the state directory. Closing flushes everything.
import type { RouterConfig } from "../config/schema.ts";
import type { EventLog } from "../state/event-log.ts";
import { ConfiguredEventLog } from "../state/configured-event-log.ts";
import type { OpenStore, StateStore, StoreWarning } from "../state/json-store.ts";
import { createMemoryStore } from "../state/memory-store.ts";
import { join } from "node:path";
import {
  configErrorText,
  describeLoad,
  lastGoodCopyName,
  loadConfigFile,
  routeCount,
  routesFilePath,
  watchConfigFile,
  type LoadedConfig,
} from "../state/config-file.ts";
import { directoryProblem } from "../state/state-file.ts";
import { resolveStateDir, stateDirSource, stateFile } from "../state/state-paths.ts";
import { readStateOnly } from "../state/state-disk.ts";
import { openStateBackend, type StateBackend } from "../team/state-backend.ts";
import { resolveTeamSettings } from "../team/team-settings.ts";
import {
  changedSettings,
  restartNote,
  START_SETTINGS,
  settingsTheEnvironmentDecides,
} from "../config/start-settings.ts";
import { catalogueRegistry } from "./model-catalogue.ts";
import { CooldownBook, cooldownStateSchema, emptyCooldowns, longestCooldownMs } from "./cooldown-book.ts";
import { LatencyBook, emptyLatency } from "./latency-book.ts";
import { parseLatencyState, salvageLatencyState } from "./legacy-latency.ts";
import { salvageRecords } from "../state/salvage.ts";

/** How a message is shown in pi's UI: a confirmation, a warning, or an error (a broken routes file). */
export type NoticeLevel = "info" | "warning" | "error";

/** Where the engine's messages go; the level only changes how pi's UI shows them (stderr takes the text alone). */
export type Notify = (text: string, level?: NoticeLevel) => void;

export interface ServicesOptions {
  agentDir: string;
  processEnv: Record<string, string | undefined>;
  /** Where warnings go (a notification in the UI, stderr otherwise). */
  warn: Notify;
  /** Tests: keep state in memory, write no files. */
  inMemory?: boolean;
  /**
   * Settings this front door reads at start besides the shared ones (the gateway's HTTP limits), and what applies
   * them ("a restart of the gateway"): a reload's confirmation names those an edit changed.
   */
  startSettings?: { paths?: readonly string[]; restart: string };
}

/** The settings read at start, and what applies an edit of them. */
export interface StartSettings {
  paths: readonly string[];
  /** Set by an environment variable that wins: an edit changes nothing, now or after a restart. */
  ignored: readonly string[];
  restart: string;
}

/** The built-in routes take the model ids of the running pi's line from its catalogue. */
const knowsModel = (provider: string, modelId: string): boolean =>
  catalogueRegistry.find(provider, modelId) !== undefined;

export class ConfigHolder {
  private loaded: LoadedConfig;
  private stopWatching: (() => void) | undefined;
  private onReloaded: ((loaded: LoadedConfig) => void) | undefined;
  /** The config the settings read at start were read from. */
  private readonly startConfig: RouterConfig;

  /** `copyPath`: where the last good copy of the file is kept (in the state directory, which the config may move). */
  constructor(
    readonly file: string,
    private readonly warn: Notify,
    private readonly copyPath?: (logDir: string | undefined) => string,
    private readonly startSettings?: StartSettings,
  ) {
    this.loaded = loadConfigFile(file, { copyPath, knowsModel });
    this.startConfig = this.loaded.config;
    this.report();
  }

  /** The settings read at start whose value in the config now in use differs, and what applies them; or undefined. */
  restartNote(): string | undefined {
    const settings = this.startSettings;
    if (!settings) return undefined;
    const changed = changedSettings(this.startConfig, this.loaded.config, settings.paths, settings.ignored);
    return restartNote(changed, settings.restart);
  }

  get current(): RouterConfig {
    return this.loaded.config;
  }

  get state(): LoadedConfig {
    return this.loaded;
  }

  /** The file the config in use was read from: the last good copy when pi started on it, else the routes file. */
  get source(): string {
    return this.loaded.origin === "last-good" && this.loaded.copy ? this.loaded.copy : this.file;
  }

  /**
   * Where `path` is written in the file the config in use came from (`file:line:column`), for warnings found after
   * loading (unknown providers, rules that match nothing); just the file when it cannot be said (a config kept in
   * memory while the file on disk is broken or gone no longer matches the file's lines).
   */
  where(path: string): string {
    const position = this.loaded.locate?.(path);
    return position ? `${this.source}:${position.line}:${position.column}` : this.source;
  }

  /**
   * Re-reads the file; an invalid file keeps the last good config, and so does a file removed while running (also
   * through a reload while it is still gone).
   */
  reload(): LoadedConfig {
    const { origin, config, signature, builtInRoutes } = this.loaded;
    const lastGood = origin === "file" || origin === "last-good" || origin === "missing" ? config : undefined;
    this.loaded = loadConfigFile(this.file, {
      lastGood,
      lastGoodBuiltInRoutes: builtInRoutes,
      copyPath: this.copyPath,
      knowsModel,
      existed: signature !== "" || origin === "missing",
    });
    this.report();
    return this.loaded;
  }

  /** Error text for a request on `routeId` while only the broken file's route ids are known; undefined otherwise. */
  requestError(routeId: string): string | undefined {
    return configErrorText(this.loaded, routeId);
  }

  watch(onChange: (loaded: LoadedConfig) => void): void {
    this.stopWatching?.();
    this.onReloaded = onChange;
    this.stopWatching = watchConfigFile(
      this.file,
      () => this.loaded.signature,
      () => this.reloadAndConfirm(),
    );
  }

  /**
   * What the watcher does with an edit, also on request (the gateway's SIGHUP): re-reads the file, confirms a valid
   * one, and tells the watch's listener.
   */
  reloadAndConfirm(): LoadedConfig {
    const loaded = this.reload();
    // An edit picked up while pi runs is confirmed once; an invalid one was already reported by reload().
    if (loaded.origin === "file" && !loaded.issues.some((issue) => issue.severity === "error")) {
      // Settings read at start stay as they were: said here, so that an edit of one is not taken for applied.
      const note = this.restartNote();
      this.warn(
        `auto-router: routes file reloaded: ${loaded.file} (${routeCount(loaded)})${note ? `; ${note}` : ""}`,
        "info",
      );
    }
    this.onReloaded?.(loaded);
    return loaded;
  }

  close(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  private report(): void {
    const lines = describeLoad(this.loaded);
    // A file that cannot be used is an error in pi's UI, not a warning; warnings alone stay warnings.
    const broken = this.loaded.issues.some((issue) => issue.severity === "error");
    if (lines.length) this.warn(lines.join("\n"), broken ? "error" : "warning");
  }
}

export interface Services {
  stateDir: string;
  config: ConfigHolder;
  cooldowns: CooldownBook;
  latency: LatencyBook;
  events?: EventLog;
  /** Where the stores live (files, or the team store on Redis) and how that backend is doing. */
  backend: StateBackend;
  /** Opens one more state store in the state dir; it is flushed and closed with the others. */
  openStore: OpenStore;
  /** Writes out what is pending in every store and the event log (e.g. before a report reads the files). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every served request moves the latency averages; they only steer ranking, so one write every few seconds carries
 * a burst of requests (the exit hook still writes what is left).
 */
export const LATENCY_FLUSH_DELAY_MS = 5_000;

export function openServices(options: ServicesOptions): Services {
  const routesFile = routesFilePath(options.processEnv, options.agentDir);
  const stateDirFor = (logDir: string | undefined) =>
    resolveStateDir({ processEnv: options.processEnv, configLogDir: logDir, agentDir: options.agentDir, routesFile });
  const copyName = lastGoodCopyName(routesFile, options.agentDir);
  const copyPath = options.inMemory ? undefined : (logDir: string | undefined) => join(stateDirFor(logDir), copyName);
  const config = new ConfigHolder(routesFile, options.warn, copyPath, {
    paths: [...START_SETTINGS, ...(options.startSettings?.paths ?? [])],
    ignored: settingsTheEnvironmentDecides(options.processEnv),
    restart: options.startSettings?.restart ?? "a restart",
  });
  // Without a file the built-in routes serve; when the user named one that is not there, that is worth saying.
  if (options.processEnv.AUTO_ROUTER_CONFIG && config.state.origin === "defaults" && config.state.signature === "")
    options.warn(
      `auto-router: AUTO_ROUTER_CONFIG names ${routesFile}, which does not exist; using the built-in routes until it does (it is checked again every few seconds)`,
    );
  const stateDir = stateDirFor(config.current.logDir);
  // Checked once up front: otherwise every store and the event log report the same broken directory on their own.
  const problem = options.inMemory ? undefined : directoryProblem(stateDir);
  if (problem)
    options.warn(
      `auto-router: warning: state directory ${stateDir} (from ${stateDirSource({ processEnv: options.processEnv, configLogDir: config.current.logDir })}) is not usable (${problem}); the state it holds is read, but changes to cooldowns and spend and the event log are kept in memory for this session (set AUTO_ROUTER_LOG_DIR or logDir to a writable directory)`,
    );
  const inMemory = options.inMemory || problem !== undefined;
  // Labelled with their level on stderr, as the routes file's issues are (a notification drops the label: pi adds
  // its own).
  const onWarning = (warning: StoreWarning) =>
    options.warn(`auto-router: warning: ${warning.file}: ${warning.message}`, "warning");
  const team = resolveTeamSettings(config.current.state, options.processEnv);
  const teamIssues = team.issues.map(
    (issue) => `${issue.path === "state.url" ? `${config.file} at state.url` : issue.path}: ${issue.message}`,
  );
  team.issues.forEach((issue, index) =>
    options.warn(`auto-router: ${issue.severity}: ${teamIssues[index]}`, issue.severity),
  );
  const backend = openStateBackend({
    settings: inMemory ? { backend: "file", machine: team.settings.machine } : team.settings,
    fileReason: teamIssues.join("; ") || undefined,
    stateDir,
    onWarning,
    warn: options.warn,
  });
  const open = <T>(
    name: string,
    defaults: () => T,
    parse: (raw: unknown) => T,
    salvage?: (raw: unknown) => T,
    flushDelayMs?: number,
  ): StateStore<T> =>
    inMemory
      ? // A directory that cannot be written may still be read: the spend, limits and cooldowns on disk keep counting.
        createMemoryStore(problem ? readStateOnly(stateFile(stateDir, name), { defaults, parse, salvage }) : defaults())
      : backend.open(name, defaults, parse, salvage, flushDelayMs);
  const cooldownStore = open(
    "cooldowns",
    emptyCooldowns,
    (raw) => cooldownStateSchema.parse(raw),
    salvageRecords(cooldownStateSchema, emptyCooldowns),
  );
  const latencyStore = open("latency", emptyLatency, parseLatencyState, salvageLatencyState, LATENCY_FLUSH_DELAY_MS);
  const events = inMemory
    ? undefined
    : new ConfiguredEventLog(() => config.current, { dir: stateDir, onWarning, machine: team.settings.machine });
  const stores = [cooldownStore, latencyStore] as StateStore<unknown>[];
  return {
    stateDir,
    config,
    cooldowns: new CooldownBook(cooldownStore, () => longestCooldownMs(config.current)),
    latency: new LatencyBook(latencyStore),
    events,
    backend,
    openStore: (name, defaults, parse, salvage, flushDelayMs) => {
      const store = open(name, defaults, parse, salvage, flushDelayMs);
      stores.push(store as StateStore<unknown>);
      return store;
    },
    async flush() {
      await Promise.allSettled([...stores.map((s) => s.flush()), events?.flush()]);
    },
    async close() {
      config.close();
      await Promise.allSettled([...stores.map((s) => s.close()), events?.close()]);
      await backend.close();
    },
  };
}
