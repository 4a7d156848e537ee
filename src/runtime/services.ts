// Opens what one pi session of the extension needs: the config (with last-good fallback and a file watcher), the
// state stores and the event log, all in the state directory. Closing flushes everything.
import type { RouterConfig } from "../config/schema.ts";
import { openEventLog, type EventLog } from "../state/event-log.ts";
import { openJsonStore, type StateStore, type StoreWarning } from "../state/json-store.ts";
import { createMemoryStore } from "../state/memory-store.ts";
import { describeLoad, loadConfigFile, routesFilePath, watchConfigFile, type LoadedConfig } from "../state/config-file.ts";
import { resolveStateDir, stateFile } from "../state/state-paths.ts";
import { CooldownBook, cooldownStateSchema, emptyCooldowns } from "./cooldown-book.ts";
import { LatencyBook, emptyLatency, latencyStateSchema } from "./latency-book.ts";

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
  /** Opens one more state store in the state dir; it is flushed and closed with the others. `salvage`: see JsonStoreOptions. */
  openStore<T>(name: string, defaults: () => T, parse: (raw: unknown) => T, salvage?: (raw: unknown) => T): StateStore<T>;
  close(): Promise<void>;
}

export function openServices(options: ServicesOptions): Services {
  const config = new ConfigHolder(routesFilePath(options.env, options.agentDir), options.warn);
  const stateDir = resolveStateDir({ env: options.env, configLogDir: config.current.logDir, agentDir: options.agentDir });
  const onWarning = (warning: StoreWarning) => options.warn(`auto-router: ${warning.file}: ${warning.message}`);
  const open = <T>(name: string, defaults: () => T, parse: (raw: unknown) => T, salvage?: (raw: unknown) => T): StateStore<T> =>
    options.inMemory
      ? createMemoryStore(defaults())
      : openJsonStore({ file: stateFile(stateDir, name), defaults, parse, salvage, onWarning });
  const cooldownStore = open("cooldowns", emptyCooldowns, (raw) => cooldownStateSchema.parse(raw));
  const latencyStore = open("latency", emptyLatency, (raw) => latencyStateSchema.parse(raw));
  const eventLogSettings = config.current.eventLog;
  const events = options.inMemory || eventLogSettings?.enabled === false
    ? undefined
    : openEventLog({ dir: stateDir, maxBytes: eventLogSettings?.maxBytes, keepFiles: eventLogSettings?.keepFiles, onWarning });
  const stores = [cooldownStore, latencyStore] as StateStore<unknown>[];
  return {
    stateDir,
    config,
    cooldowns: new CooldownBook(cooldownStore),
    latency: new LatencyBook(latencyStore),
    events,
    openStore<T>(name: string, defaults: () => T, parse: (raw: unknown) => T, salvage?: (raw: unknown) => T): StateStore<T> {
      const store = open(name, defaults, parse, salvage);
      stores.push(store as StateStore<unknown>);
      return store;
    },
    async close() {
      config.close();
      await Promise.allSettled([...stores.map((s) => s.close()), events?.close()]);
    },
  };
}
