// The product as users run it: pi's SDK loads the real extension entry (pi-extension.ts: the shipped bundle, every
// plugin, the file stores and the event log in a temporary agent dir) next to an in-memory faux target, and a model
// is called the way pi calls one for every request of a session: through the session agent's stream function. On
// pi 0.73 that looks up the model's credentials in pi's registry and calls pi-ai's streamSimple; on the newer lines
// it builds the request options and calls `modelRuntime.streamSimple` (issue 19's `ctx.modelRegistry.streamSimple`),
// which looks them up too. Routed, that is `auto-router/<route>`; direct, the faux target itself. The SDK is the one
// PI_SDK names (test/helpers/sdk-harness.ts), so the same bench runs on every installed pi line.
import type {
  Api,
  ApiProvider,
  AssistantMessage,
  AssistantMessageEventStream,
  Context,
  Model,
  SimpleStreamOptions,
} from "@mariozechner/pi-ai";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createSdkHarness, type SdkHarness } from "../test/helpers/sdk-harness.ts";

export const EXTENSION_ROUTE_ID = "bench";
export const EXTENSION_TARGET_PROVIDER = "bench-target";
export const EXTENSION_BACKUP_PROVIDER = "bench-backup";

/** A model call as pi makes it: the session's stream function (a promise of the stream on every pi line). */
export type ModelCall = (
  model: Model<Api>,
  context: Context,
  options?: SimpleStreamOptions,
) => AssistantMessageEventStream | Promise<AssistantMessageEventStream>;

export interface ExtensionSetup {
  harness: SdkHarness;
  /** pi's own model call (see the header): `auto-router` goes to the extension, the faux apis to the targets. */
  callModel: ModelCall;
  /** The host pi-ai's faux answer builder and api registry (the host's copy, whatever pi line runs). */
  fauxAssistantMessage: (content: unknown, options?: Record<string, unknown>) => AssistantMessage;
  getApiProvider: (api: string) => ApiProvider<Api> | undefined;
  registerApiProvider: (provider: ApiProvider<Api>) => void;
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
  // The agent keeps it as `streamFn` on pi 0.73 and as `streamFunction` on the newer lines.
  const agent = harness.session.agent;
  const streamFunction: ModelCall | undefined = agent?.streamFn ?? agent?.streamFunction;
  if (typeof streamFunction !== "function") throw new Error("this pi's session agent has no stream function");
  const callModel: ModelCall = (model, context, options) => streamFunction.call(agent, model, context, options);
  const find = (provider: string, id: string): Model<Api> => {
    const model =
      harness.session.modelRegistry?.find?.(provider, id) ?? harness.session.modelRuntime?.getModel?.(provider, id);
    if (!model) throw new Error(`model ${provider}/${id} is not in the session's registry`);
    return model;
  };
  return {
    harness,
    callModel,
    fauxAssistantMessage: harness.fauxHelpers.fauxAssistantMessage,
    getApiProvider: harness.fauxHelpers.getApiProvider,
    registerApiProvider: harness.fauxHelpers.registerApiProvider,
    routerModel: find("auto-router", EXTENSION_ROUTE_ID),
    targetModel: find(EXTENSION_TARGET_PROVIDER, "model"),
    backupModel: find(EXTENSION_BACKUP_PROVIDER, "model"),
    queue: (provider, message) => harness.faux(provider).appendResponses([message]),
    agentDir: harness.agentDir,
    dispose: () => harness.dispose(),
  };
}

/** The pi line the SDK harness loads (PI_SDK, else the repository's own pi) and the Node running it, e.g. "pi 0.87.1 / Node 22.23.3". */
export function hostDescription(): string {
  const entry = process.env.PI_SDK ?? "@mariozechner/pi-coding-agent";
  let version = "unknown";
  try {
    // PI_SDK is a path to the SDK's dist/index.js or a package name (test/helpers/sdk-harness.ts). The packages
    // export neither their package.json nor a CommonJS entry: the name is resolved as an import, to dist/index.js.
    const main = /^[./]/.test(entry) ? entry : fileURLToPath(import.meta.resolve(entry));
    version = JSON.parse(readFileSync(join(dirname(dirname(main)), "package.json"), "utf8")).version;
  } catch {
    // an SDK without a readable package.json: the version stays "unknown"
  }
  return `pi ${version} / Node ${process.versions.node}`;
}
