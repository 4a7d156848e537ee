// A STRIPPED router for locating costs, not the product (product-cost.bench.ts measures that): a RouterRuntime
// without plugins over given stores, a registry that knows the
// bench's target models, and the stream function pi would call for `auto-router/<route>`. Also times one request.
import type { Api, AssistantMessageEventStream, Context, Model, SimpleStreamOptions } from "@mariozechner/pi-ai";
import type { RouterConfig } from "../src/config/schema.ts";
import type { EventLog } from "../src/state/event-log.ts";
import type { StateStore } from "../src/state/json-store.ts";
import { createMemoryStore } from "../src/state/memory-store.ts";
import { CooldownBook, emptyCooldowns, type CooldownState } from "../src/runtime/cooldown-book.ts";
import { createRouterStream } from "../src/runtime/failover-stream.ts";
import { LatencyBook, emptyLatency, type LatencyState } from "../src/runtime/latency-book.ts";
import type { RouterPlugin } from "../src/runtime/plugin.ts";
import type { StatusSink } from "../src/runtime/request-environment.ts";
import { RouterRuntime } from "../src/runtime/router-runtime.ts";
import type { RegistryLike, StreamFunction } from "../src/runtime/start-target.ts";
import { nowMicroseconds } from "./stats.ts";

export const BENCH_CONTEXT: Context = {
  systemPrompt: "You are a helpful coding assistant.",
  messages: [{ role: "user", content: "Say hello in five words.", timestamp: 0 }],
};

export type StreamCall = (
  model: Model<Api>,
  context: Context,
  options?: SimpleStreamOptions,
) => AssistantMessageEventStream;

/** pi's ModelRegistry as the runtime sees it: every bench model resolves and has an API key. */
export function benchRegistry(models: Model<Api>[]): RegistryLike {
  return {
    find: (provider, modelId) => models.find((model) => model.provider === provider && model.id === modelId),
    hasConfiguredAuth: () => true,
    getApiKeyAndHeaders: async () => ({ ok: true, apiKey: "bench-key" }),
  };
}

const SILENT_STATUS: StatusSink = { onAttempt() {}, onCommitted() {}, onWaiting() {}, onFinished() {} };

export interface RouterSetupOptions {
  routeId: string;
  targets: Model<Api>[];
  /** Extra route settings (failover policy, timeouts). */
  route?: Record<string, unknown>;
  cooldownStore?: StateStore<CooldownState>;
  latencyStore?: StateStore<LatencyState>;
  events?: EventLog;
  stream?: StreamFunction;
  now?: () => number;
  /** Top-level config beside the route (budgets); feature plugins made from the runtime's config and registry. */
  config?: Partial<RouterConfig>;
  plugins?: (parts: { config: () => RouterConfig; runtime: () => RouterRuntime }) => RouterPlugin[];
}

export interface RouterSetup {
  runtime: RouterRuntime;
  /** The virtual model pi would pass for `auto-router/<routeId>`. */
  routerModel: Model<Api>;
  stream: StreamCall;
}

export function buildRouter(options: RouterSetupOptions): RouterSetup {
  const config = {
    routes: {
      [options.routeId]: {
        sortBy: "config",
        targets: options.targets.map((model) => ({ provider: model.provider, modelId: model.id })),
        ...options.route,
      },
    },
    ...options.config,
  } as RouterConfig;
  let runtimeRef: RouterRuntime | undefined;
  const runtime = new RouterRuntime({
    plugins: options.plugins?.({ config: () => config, runtime: () => runtimeRef! }),
    config: () => config,
    cooldowns: new CooldownBook(options.cooldownStore ?? createMemoryStore(emptyCooldowns())),
    latency: new LatencyBook(options.latencyStore ?? createMemoryStore(emptyLatency())),
    events: options.events,
    status: SILENT_STATUS,
    warn: () => undefined,
    now: options.now,
    stream: options.stream,
  });
  runtimeRef = runtime;
  runtime.attachRegistry(benchRegistry(options.targets));
  const first = options.targets[0]!;
  const routerModel = {
    ...first,
    id: options.routeId,
    name: options.routeId,
    api: "auto-router",
    provider: "auto-router",
  } as Model<Api>;
  const routerStream = createRouterStream(runtime);
  let promptCounter = 0;
  return {
    runtime,
    routerModel,
    // Every bench request is a prompt of its own: the router recognises a prompt by its last user message
    // (stickiness), so give that message a fresh timestamp per request.
    stream: (model, context, streamOptions) => {
      const messages = context.messages;
      const last = messages[messages.length - 1]!;
      const fresh = { ...context, messages: [...messages.slice(0, -1), { ...last, timestamp: ++promptCounter }] };
      return routerStream(model, fresh as typeof context, streamOptions);
    },
  };
}

export interface RequestTiming {
  ttftUs: number;
  totalUs: number;
  text: string;
  stopReason: string;
}

/** Calls the stream function and reads it to the end: time to the first text_delta, and to the end of the stream. */
export async function timeRequest(
  call: StreamCall,
  model: Model<Api>,
  context: Context,
  options: SimpleStreamOptions,
): Promise<RequestTiming> {
  const startedAt = nowMicroseconds();
  let ttftUs = Number.NaN;
  let text = "";
  let stopReason = "none";
  for await (const event of call(model, context, options)) {
    if (event.type === "text_delta") {
      if (Number.isNaN(ttftUs)) ttftUs = nowMicroseconds() - startedAt;
      text += event.delta;
    } else if (event.type === "done") {
      stopReason = event.message.stopReason;
    } else if (event.type === "error") {
      stopReason = `${event.reason}: ${event.error.errorMessage ?? ""}`;
    }
  }
  return { ttftUs, totalUs: nowMicroseconds() - startedAt, text, stopReason };
}

/** Lets timers and I/O run between measured requests, as pi's event loop would. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Requests per second of `count` requests one after another, with one turn of the event loop between them as in pi's
 * agent loop (which always awaits I/O between model calls): what a request leaves for the end of its turn (the event
 * log's lines, the stores' writes) runs inside the run it belongs to. A loop of microtasks only would never let it run,
 * and counted a routed request on pi 0.73 / Node 20 at about half its cost.
 */
export async function backToBackRate(count: number, request: () => Promise<unknown>): Promise<number> {
  const startedAt = nowMicroseconds();
  for (let index = 0; index < count; index++) {
    await request();
    await yieldToEventLoop();
  }
  return (count * 1_000_000) / (nowMicroseconds() - startedAt);
}
