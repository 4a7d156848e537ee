// The product as users run it: pi's SDK loads the real extension entry (pi-extension.ts: the shipped bundle, every
// plugin, the file stores and the event log in a temporary agent dir) next to an in-memory faux target, and the
// routed model is called the way pi calls it, through the host pi-ai's streamSimple on `auto-router/<route>`.
import type { Api, AssistantMessageEventStream, Context, Model, SimpleStreamOptions } from "@mariozechner/pi-ai";
import { createSdkHarness, type SdkHarness } from "../test/helpers/sdk-harness.ts";

export const EXTENSION_ROUTE_ID = "bench";
export const EXTENSION_TARGET_PROVIDER = "bench-target";
export const EXTENSION_BACKUP_PROVIDER = "bench-backup";

export type StreamCall = (
  model: Model<Api>,
  context: Context,
  options?: SimpleStreamOptions,
) => AssistantMessageEventStream;

export interface ExtensionSetup {
  harness: SdkHarness;
  /** pi-ai's streamSimple of the host: dispatches `auto-router` to the extension and the faux apis to the targets. */
  streamSimple: StreamCall;
  routerModel: Model<Api>;
  targetModel: Model<Api>;
  backupModel: Model<Api>;
  /** Queues one answer on a faux target. */
  queue(provider: string, message: unknown): void;
  /** The agent dir holding the extension's state files and event log. */
  agentDir: string;
  dispose(): Promise<void>;
}

export interface ExtensionSetupOptions {
  /** Extra route settings and top-level config (budgets, quota pacing, breaker). */
  route?: Record<string, unknown>;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
}

export async function loadExtension(options: ExtensionSetupOptions = {}): Promise<ExtensionSetup> {
  const harness = await createSdkHarness({
    targets: [
      { provider: EXTENSION_TARGET_PROVIDER, models: [{ id: "model" }] },
      { provider: EXTENSION_BACKUP_PROVIDER, models: [{ id: "model" }] },
    ],
    routes: {
      ...options.config,
      routes: {
        [EXTENSION_ROUTE_ID]: {
          sortBy: "config",
          targets: [
            { provider: EXTENSION_TARGET_PROVIDER, modelId: "model" },
            { provider: EXTENSION_BACKUP_PROVIDER, modelId: "model" },
          ],
          ...options.route,
        },
      },
    },
    env: options.env,
    ui: false,
  });
  const pi = (await import("@mariozechner/pi-ai")) as unknown as { streamSimple: StreamCall };
  const find = (provider: string, id: string): Model<Api> => {
    const model =
      harness.session.modelRegistry?.find?.(provider, id) ?? harness.session.modelRuntime?.getModel?.(provider, id);
    if (!model) throw new Error(`model ${provider}/${id} is not in the session's registry`);
    return model;
  };
  return {
    harness,
    streamSimple: pi.streamSimple,
    routerModel: find("auto-router", EXTENSION_ROUTE_ID),
    targetModel: find(EXTENSION_TARGET_PROVIDER, "model"),
    backupModel: find(EXTENSION_BACKUP_PROVIDER, "model"),
    queue: (provider, message) => harness.faux(provider).appendResponses([message]),
    agentDir: harness.agentDir,
    dispose: () => harness.dispose(),
  };
}
