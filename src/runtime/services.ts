// Opens what one pi session of the extension needs: the config (with last-good fallback and a file watcher), the
// state stores and the event log, all in the state directory. Closing flushes everything.
import type { RouterConfig } from "../config/schema.ts";
import { openEventLog, type EventLog } from "../state/event-log.ts";
import type { StateStore, StoreWarning } from "../state/json-store.ts";
import { createMemoryStore } from "../state/memory-store.ts";
import { describeLoad, loadConfigFile, routesFilePath, watchConfigFile, type LoadedConfig } from "../state/config-file.ts";
import { resolveStateDir } from "../state/state-paths.ts";
import { openStateBackend, type StateBackend } from "../team/state-backend.ts";
import { resolveTeamSettings } from "../team/team-settings.ts";
import { CooldownBook, cooldownStateSchema, emptyCooldowns } from "./cooldown-book.ts";
import { LatencyBook, emptyLatency, parseLatencyState } from "./latency-book.ts";

export interface ServicesOptions {
  agentDir: string;
  env: Record<string, string | undefined>;
  /** Where warnings go (a notification in the UI, stderr otherwise). */
  warn: (text: string) => void;
  /** Tests: keep state in memory, write no files. */
  inMemory?: boolean;
}

export class ConfigHolder {
  private loaded: LoadedConfig;
  private stopWatching: (() => void) | undefined;

  constructor(readonly file: string, private readonly warn: (text: string) => void) {
    this.loaded = loadConfigFile(file);
    this.report();
  }

  get current(): RouterConfig {
    return this.loaded.config;
  }

  get state(): LoadedConfig {
    return this.loaded;
  }

  /** Re-reads the file; an invalid file keeps the last good config. */
  reload(): LoadedConfig {
    const lastGood = this.loaded.origin === "file" ? this.loaded.config : this.loaded.origin === "last-good" ? this.loaded.config : undefined;
    this.loaded = loadConfigFile(this.file, lastGood);
    this.report();
    return this.loaded;
  }

  watch(onChange: (loaded: LoadedConfig) => void): void {
    this.stopWatching?.();
    this.stopWatching = watchConfigFile(this.file, () => this.loaded.signature, () => onChange(this.reload()));
  }

  close(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  private report(): void {
    const lines = describeLoad(this.loaded);
    if (lines.length) this.warn(lines.join("\n"));
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
  openStore<T>(name: string, defaults: () => T, parse: (raw: unknown) => T): StateStore<T>;
  /** Writes out what is pending in every store and the event log (e.g. before a report reads the files). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function openServices(options: ServicesOptions): Services {
  const config = new ConfigHolder(routesFilePath(options.env, options.agentDir), options.warn);
  const stateDir = resolveStateDir({ env: options.env, configLogDir: config.current.logDir, agentDir: options.agentDir });
  const onWarning = (warning: StoreWarning) => options.warn(`auto-router: ${warning.file}: ${warning.message}`);
  const team = resolveTeamSettings(config.current.state, options.env);
  for (const issue of team.issues) options.warn(`auto-router: ${issue.path === "state.url" ? `${config.file} at state.url` : issue.path}: ${issue.message}`);
  const backend = openStateBackend({ settings: options.inMemory ? { backend: "file", machine: team.settings.machine } : team.settings, stateDir, onWarning, warn: options.warn });
  const open = <T>(name: string, defaults: () => T, parse: (raw: unknown) => T): StateStore<T> =>
    options.inMemory ? createMemoryStore(defaults()) : backend.open(name, defaults, parse);
  const cooldownStore = open("cooldowns", emptyCooldowns, (raw) => cooldownStateSchema.parse(raw));
  const latencyStore = open("latency", emptyLatency, parseLatencyState);
  const eventLogSettings = config.current.eventLog;
  const events = options.inMemory || eventLogSettings?.enabled === false
    ? undefined
    : openEventLog({ dir: stateDir, maxBytes: eventLogSettings?.maxBytes, keepFiles: eventLogSettings?.keepFiles, onWarning, machine: team.settings.machine });
  const stores = [cooldownStore, latencyStore] as StateStore<unknown>[];
  return {
    stateDir,
    config,
    cooldowns: new CooldownBook(cooldownStore),
    latency: new LatencyBook(latencyStore),
    events,
    backend,
    openStore<T>(name: string, defaults: () => T, parse: (raw: unknown) => T): StateStore<T> {
      const store = open(name, defaults, parse);
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
