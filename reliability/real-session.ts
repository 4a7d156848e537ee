// An in-process pi session (the SDK) whose targets are real pi-ai providers (openai-completions, anthropic-messages)
// declared in the agent dir's models.json, with this extension loaded: the chaos suite's way to send many prompts
// through real provider code without paying a pi start-up per prompt. Only what the extension shows through the UI
// is recorded (a recording UI, so nothing is written to process.stdout).
import { join } from "node:path";
import { EXTENSION_ENTRY } from "../test/helpers/agent-dir.ts";
import { createRecordingUi, type RecordingUi } from "../test/helpers/recording-ui.ts";
import { DEFAULT_SDK_SETTINGS, loadExtensions, loadPiSdk } from "../test/helpers/sdk-harness.ts";

export interface RealSession {
  session: any;
  ui: RecordingUi;
  /** Selects `provider/modelId` from the session's registry. */
  setModel(provider: string, modelId: string): Promise<void>;
  /** Forgets the transcript so the next prompt is sent alone (no history growth over thousands of prompts). */
  clearTranscript(): void;
  dispose(): Promise<void>;
}

async function modelServices(sdk: any, modelsPath: string): Promise<Record<string, unknown>> {
  if (sdk.ModelRuntime) {
    const entries = new Map<string, any>();
    const credentials = {
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
    return { modelRuntime: await sdk.ModelRuntime.create({ credentials, modelsPath, refreshOnCreate: false }) };
  }
  const authStorage = sdk.AuthStorage.inMemory();
  return { authStorage, modelRegistry: sdk.ModelRegistry.create(authStorage, modelsPath) };
}

export async function createRealSession(options: {
  agentDir: string;
  settings?: Record<string, unknown>;
}): Promise<RealSession> {
  const { agentDir } = options;
  const previousAgentDir = process.env.PI_CODING_AGENT_DIR;
  process.env.PI_CODING_AGENT_DIR = agentDir;
  const sdk = await loadPiSdk();
  const ui = createRecordingUi();
  const settingsManager = sdk.SettingsManager.inMemory({ ...DEFAULT_SDK_SETTINGS, ...options.settings });
  const resourceLoader = await loadExtensions(sdk, agentDir, settingsManager, [EXTENSION_ENTRY]);
  const { session } = await sdk.createAgentSession({
    cwd: agentDir,
    agentDir,
    ...(await modelServices(sdk, join(agentDir, "models.json"))),
    resourceLoader,
    settingsManager,
    sessionManager: sdk.SessionManager.inMemory(agentDir),
    tools: [],
  });
  await session.bindExtensions({ uiContext: ui.context });

  const findModel = (provider: string, modelId: string) =>
    session.modelRegistry?.find?.(provider, modelId) ?? session.modelRuntime?.getModel?.(provider, modelId);
  return {
    session,
    ui,
    setModel: async (provider, modelId) => {
      const model = findModel(provider, modelId);
      if (!model) throw new Error(`model ${provider}/${modelId} is not in the session's registry`);
      await session.setModel(model);
    },
    clearTranscript: () => {
      session.agent?.reset?.();
      session.sessionManager?.newSession?.();
    },
    dispose: async () => {
      try {
        if (session.isStreaming) await session.abort();
        const runner = session.extensionRunner;
        if (runner?.hasHandlers?.("session_shutdown")) await runner.emit({ type: "session_shutdown", reason: "quit" });
        session.dispose();
      } finally {
        if (previousAgentDir === undefined) delete process.env.PI_CODING_AGENT_DIR;
        else process.env.PI_CODING_AGENT_DIR = previousAgentDir;
      }
    },
  };
}
