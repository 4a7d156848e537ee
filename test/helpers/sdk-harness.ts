// In-process pi session (the SDK) with faux target providers: the fast layer most router tests use.
// The SDK comes from PI_SDK (a path or package name) or @mariozechner/pi-coding-agent, and is feature-detected
// (ModelRuntime on new pi, AuthStorage + ModelRegistry.inMemory on 0.73), so the same tests run on both lines.
// The faux targets are loaded as a test extension so they register into the host's pi-ai, not a test copy.
import { rmSync } from "node:fs";
import { afterEach, mock } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { FauxProviderSpec } from "../fixtures/faux-targets.ts";
import { EXTENSION_ENTRY, makeAgentDir, mergeSettings } from "./agent-dir.ts";
import { createRecordingUi, type RecordingUi } from "./recording-ui.ts";
import { freshDir } from "./temp-and-workers.ts";

export type { FauxModelSpec, FauxProviderSpec } from "../fixtures/faux-targets.ts";

export const FAUX_TARGETS_EXTENSION = fileURLToPath(new URL("../fixtures/faux-targets.ts", import.meta.url));

// Retries would re-run failed prompts after seconds of backoff; compaction would add unexpected model calls.
export const DEFAULT_SDK_SETTINGS: Record<string, unknown> = {
  retry: { enabled: false },
  compaction: { enabled: false },
};

type AnyFunction = (...args: any[]) => any;

export interface SdkHarness {
  session: any;
  agentDir: string;
  faux(provider: string): any;
  fauxHelpers: {
    fauxAssistantMessage: AnyFunction;
    fauxText: AnyFunction;
    fauxToolCall: AnyFunction;
    fauxThinking: AnyFunction;
    /** The host pi-ai's api registry (getApiProvider / registerApiProvider). */
    getApiProvider: AnyFunction;
    registerApiProvider: AnyFunction;
  };
  setModel(provider: string, id: string): Promise<void>;
  prompt(text: string, options?: { images?: any[] }): Promise<void>;
  chat(): any[];
  lastAssistant(): any;
  events: any[];
  /** Moves the session's clock (Date) forward; only with `clock: true`. */
  advanceClock(ms: number): void;
  /** What extensions showed through ctx.ui (undefined with `ui: false`). */
  ui?: RecordingUi;
  /** Runs a slash command (or any prompt) and returns the notification text it produced, then any listing it put in the widget. */
  command(text: string): Promise<string>;
  dispose(): Promise<void>;
}

export interface SdkHarnessOptions {
  targets: FauxProviderSpec[];
  routes?: unknown;
  settings?: Record<string, unknown>;
  extensionPaths?: string[];
  tools?: string[];
  env?: Record<string, string>;
  /** Give extensions a recording UI (default true); false = print-mode-like, ctx.hasUI is false. */
  ui?: boolean;
  /**
   * Freeze Date (pi's and the router's clock) until advanceClock(), at this instant (a number) or now (true), from
   * before the session starts; timers still run in real time.
   */
  clock?: boolean | number;
  /** With `clock`: setInterval runs on that clock too (advanceClock() runs every interval that falls due). */
  intervals?: boolean;
  /** Providers logged in with OAuth (a subscription), with the access token pi then resolves for them. */
  oauth?: Record<string, string>;
}

type FauxGlobals = { __fauxTargetSpec?: FauxProviderSpec[]; __fauxTargets?: Record<string, any>; __fauxHelpers?: any };

export async function loadPiSdk(): Promise<any> {
  const specifier = process.env.PI_SDK;
  if (!specifier) return import("@mariozechner/pi-coding-agent");
  const isPath = specifier.startsWith("/") || specifier.startsWith(".");
  return import(isPath ? pathToFileURL(specifier).href : specifier);
}

/** Sets variables now and returns a function that puts the previous values (or their absence) back. */
function applyEnvironment(values: Record<string, string>): () => void {
  const previous = Object.keys(values).map((key) => [key, process.env[key]] as const);
  Object.assign(process.env, values);
  return () => {
    for (const [key, value] of previous) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/** An OAuth login (what pi's /login stores), valid for a day. */
const oauthLogin = (access: string) => ({
  type: "oauth",
  access,
  refresh: `${access}-refresh`,
  expires: Date.now() + 24 * 3_600_000,
});

/** A Map-backed pi-ai CredentialStore (read/list/modify/delete), the new-pi counterpart of AuthStorage.inMemory(). */
function inMemoryCredentials(oauth: Record<string, string>) {
  const entries = new Map<string, any>(
    Object.entries(oauth).map(([provider, access]) => [provider, oauthLogin(access)]),
  );
  return {
    read: async (providerId: string) => entries.get(providerId),
    list: async () =>
      [...entries.entries()].map(([providerId, credential]) => ({ providerId, type: credential?.type })),
    modify: async (providerId: string, change: (current: any) => Promise<any>) => {
      const next = await change(entries.get(providerId));
      if (next !== undefined) entries.set(providerId, next);
      return entries.get(providerId);
    },
    delete: async (providerId: string) => void entries.delete(providerId),
  };
}

async function modelServices(sdk: any, oauth: Record<string, string> = {}): Promise<Record<string, unknown>> {
  if (sdk.ModelRuntime) {
    // In-memory credentials like 0.73's AuthStorage.inMemory(): a file store would be re-created in the agent dir by
    // the background availability refresh that registerProvider() starts, after dispose() removed the dir.
    const modelRuntime = await sdk.ModelRuntime.create({
      credentials: inMemoryCredentials(oauth),
      modelsPath: null,
      refreshOnCreate: false,
    });
    // Its auth snapshot (isUsingOAuth) is read from the credentials on a refresh: only a login needs one.
    if (Object.keys(oauth).length > 0) await modelRuntime.refresh();
    return { modelRuntime };
  }
  const authStorage = sdk.AuthStorage.inMemory();
  for (const [provider, access] of Object.entries(oauth)) authStorage.set(provider, oauthLogin(access));
  return { authStorage, modelRegistry: sdk.ModelRegistry.inMemory(authStorage) };
}

/** pi's resource loader with only the given extensions (no discovery, skills, templates, themes or context files). */
export async function loadExtensions(
  sdk: any,
  agentDir: string,
  settingsManager: unknown,
  extensionPaths: string[],
): Promise<any> {
  const resourceLoader = new sdk.DefaultResourceLoader({
    cwd: agentDir,
    agentDir,
    settingsManager,
    noExtensions: true,
    noSkills: true,
    noPromptTemplates: true,
    noThemes: true,
    noContextFiles: true,
    additionalExtensionPaths: extensionPaths,
  });
  await resourceLoader.reload();
  const loadErrors: Array<{ path: string; error: string }> = resourceLoader.getExtensions?.().errors ?? [];
  if (loadErrors.length > 0) {
    throw new Error(
      `extensions failed to load:\n${loadErrors.map((entry) => `${entry.path}: ${entry.error}`).join("\n")}`,
    );
  }
  return resourceLoader;
}

export async function createSdkHarness(options: SdkHarnessOptions): Promise<SdkHarness> {
  const { agentDir, cleanup } = makeAgentDir({ routes: options.routes, settings: options.settings });
  const restoreEnvironment = applyEnvironment({ ...options.env, PI_CODING_AGENT_DIR: agentDir });
  const globals = globalThis as FauxGlobals;
  globals.__fauxTargetSpec = options.targets;
  const sdk = await loadPiSdk();
  let session: any;
  const events: any[] = [];
  const ui = options.ui === false ? undefined : createRecordingUi();
  if (options.clock)
    mock.timers.enable({
      apis: options.intervals ? ["Date", "setInterval"] : ["Date"],
      now: typeof options.clock === "number" ? options.clock : Date.now(),
    });

  const dispose = async () => {
    try {
      if (session?.isStreaming) await session.abort();
      // The CLI emits session_shutdown on quit; the SDK's dispose() does not, so do it here for the extensions.
      const runner = session?.extensionRunner;
      if (runner?.hasHandlers?.("session_shutdown")) await runner.emit({ type: "session_shutdown", reason: "quit" });
      session?.dispose();
      for (const handle of Object.values(globals.__fauxTargets ?? {})) handle.unregister?.();
    } finally {
      if (options.clock) mock.timers.reset();
      delete globals.__fauxTargetSpec;
      delete globals.__fauxTargets;
      restoreEnvironment();
      cleanup();
    }
  };

  try {
    const settingsManager = sdk.SettingsManager.inMemory(mergeSettings(DEFAULT_SDK_SETTINGS, options.settings));
    const resourceLoader = await loadExtensions(sdk, agentDir, settingsManager, [
      FAUX_TARGETS_EXTENSION,
      ...(options.extensionPaths ?? [EXTENSION_ENTRY]),
    ]);
    ({ session } = await sdk.createAgentSession({
      cwd: agentDir,
      agentDir,
      ...(await modelServices(sdk, options.oauth)),
      resourceLoader,
      settingsManager,
      sessionManager: sdk.SessionManager.inMemory(agentDir),
      tools: options.tools ?? [],
    }));
    await session.bindExtensions(ui ? { uiContext: ui.context } : {}); // the SDK does not bind by itself; this emits session_start
    session.subscribe((event: any) => events.push(event));
  } catch (error) {
    await dispose();
    throw error;
  }

  const findModel = (provider: string, id: string) =>
    session.modelRegistry?.find?.(provider, id) ?? session.modelRuntime?.getModel?.(provider, id);
  const chat = () => session.messages.filter((message: any) => message.role !== "system");

  return {
    session,
    agentDir,
    events,
    ui,
    command: async (text) => {
      if (!ui) throw new Error("command() needs the recording UI (ui: true)");
      const from = ui.notifications.length;
      const widgetBefore = ui.widgets.get("auto-router");
      await session.prompt(text);
      const widget = ui.widgets.get("auto-router");
      return ui.textSince(from) + (widget && widget !== widgetBefore ? `\n${widget.join("\n")}` : "");
    },
    fauxHelpers: globals.__fauxHelpers,
    faux: (provider) => {
      const handle = globals.__fauxTargets?.[provider];
      if (!handle)
        throw new Error(
          `no faux target provider "${provider}" (known: ${Object.keys(globals.__fauxTargets ?? {}).join(", ")})`,
        );
      return handle;
    },
    setModel: async (provider, id) => {
      const model = findModel(provider, id);
      if (!model) throw new Error(`model ${provider}/${id} is not in the session's registry`);
      await session.setModel(model);
    },
    prompt: (text, promptOptions) => session.prompt(text, promptOptions),
    advanceClock: (ms) => {
      if (!options.clock) throw new Error("advanceClock() needs createSdkHarness({ clock: true })");
      mock.timers.tick(ms);
    },
    chat,
    lastAssistant: () =>
      chat()
        .filter((message: any) => message.role === "assistant")
        .at(-1),
    dispose,
  };
}

export interface HarnessPerTest {
  /**
   * Starts this test's harness (stopping one already running). With `statePrefix`, the router's state and event log go
   * to a fresh directory (AUTO_ROUTER_LOG_DIR) that is removed after the test.
   */
  start(options: SdkHarnessOptions, statePrefix?: string): Promise<SdkHarness>;
  /** The state directory of the latest start with a prefix. */
  readonly stateDir: string;
  /** Disposes the harness now (which flushes the event log); its state directory stays until the test ends. */
  stop(): Promise<void>;
}

/** One SDK harness per test, disposed and its state directories removed after each test of the file. */
export function harnessPerTest(): HarnessPerTest {
  let harness: SdkHarness | undefined;
  let stateDir: string | undefined;
  const dirs: string[] = [];
  const stop = async () => {
    const running = harness;
    harness = undefined;
    await running?.dispose();
  };
  afterEach(async () => {
    await stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    stateDir = undefined;
  });
  return {
    async start(options, statePrefix) {
      await stop();
      let env = options.env;
      if (statePrefix) {
        stateDir = freshDir(statePrefix);
        dirs.push(stateDir);
        env = { AUTO_ROUTER_LOG_DIR: stateDir, ...options.env };
      }
      harness = await createSdkHarness({ ...options, env });
      return harness;
    },
    get stateDir() {
      if (!stateDir) throw new Error("harnessPerTest: no state directory (start with a statePrefix)");
      return stateDir;
    },
    stop,
  };
}
