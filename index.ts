// pi-auto-router: wiring only. Registers the auto-router provider, the /auto-router command and the event handlers;
// everything they do lives in src/.
import type { ExtensionAPI, ExtensionContext } from "@mariozechner/pi-coding-agent";
import { getAgentDir, VERSION } from "@mariozechner/pi-coding-agent";
import { RUNS_FROM_BUNDLE } from "./src/build-info.ts";
import { debugCommand } from "./src/commands/debug-command.ts";
import { completeCommand, runCommand } from "./src/commands/dispatch.ts";
import { commandOutput } from "./src/commands/output.ts";
import { createEngine } from "./src/engine.ts";
import { packageInfo } from "./src/package-info.ts";
import { parseShortcuts, shortcutOnlyNotice } from "./src/routing/shortcuts.ts";
import { withEnvironmentKeyFallbacks } from "./src/runtime/env-key-fallback.ts";
import { createRouterStream } from "./src/runtime/failover-stream.ts";
import { virtualModels } from "./src/runtime/provider-models.ts";
import { describeLoad } from "./src/state/config-file.ts";
import { STATUS_KEY, StatusLine } from "./src/ui/status-line.ts";

export const PROVIDER_ID = "auto-router";

export default function autoRouter(pi: ExtensionAPI): void {
  let context: ExtensionContext | undefined;
  const pendingWarnings: string[] = [];
  const isActive = (ctx: ExtensionContext | undefined) => ctx?.model?.provider === PROVIDER_ID;
  const show = (ctx: ExtensionContext, text: string, level: "info" | "warning") => {
    try {
      if (ctx.hasUI) ctx.ui.notify(text, level);
      else process.stderr.write(`${text}\n`);
    } catch {
      process.stderr.write(`${text}\n`);
    }
  };
  const warn = (text: string) => {
    if (!context) return void pendingWarnings.push(text);
    show(context, text, "warning");
  };
  const status = new StatusLine(
    (text) => {
      try {
        if (context?.hasUI) context.ui.setStatus(STATUS_KEY, isActive(context) ? text : undefined);
      } catch {
        // A stale ctx after /reload throws; the next session_start brings a fresh one.
      }
    },
    Date.now,
    (text) => {
      if (!context?.hasUI) process.stderr.write(`${text}\n`);
    },
    () => engine.plugins.flatMap((plugin) => plugin.statusMarks?.() ?? []),
  );

  const engine = createEngine({ agentDir: getAgentDir(), env: process.env, warn, status });
  const { services, runtime } = engine;
  const host = () => ({
    piVersion: VERSION, nodeVersion: process.versions.node, packageVersion: packageInfo().version, loadPath: packageInfo().root, runsFromBundle: RUNS_FROM_BUNDLE,
  });
  const subcommands = [...engine.subcommands, debugCommand(host)];
  const registerModels = () =>
    pi.registerProvider(PROVIDER_ID, {
      name: "Auto Router",
      api: "auto-router",
      baseUrl: "http://auto-router.invalid",
      apiKey: "auto-router-virtual",
      streamSimple: createRouterStream(runtime),
      models: virtualModels(services.config.current, runtime.currentFacts()),
    });
  const reload = () => {
    services.config.reload();
    registerModels();
    status.setConfigWarning(services.config.state.issues.some((i) => i.severity === "error") ? "config invalid" : undefined);
    return describeLoad(services.config.state);
  };
  registerModels();
  services.config.watch(() => {
    registerModels();
    status.setConfigWarning(services.config.state.issues.some((i) => i.severity === "error") ? "config invalid" : undefined);
  });

  const deps = engine.commandDeps(async (provider, modelId) => {
    const model = runtime.registry()?.find(provider, modelId);
    return model ? pi.setModel(model) : false;
  }, reload);
  pi.registerCommand("auto-router", {
    description: "Auto router: status, list, explain, switch, budget, circuit, uvi, health, rate, shadow ... (/auto-router help)",
    getArgumentCompletions: (prefix) => completeCommand(prefix, deps, subcommands),
    handler: async (args, ctx) => {
      context = ctx;
      await runCommand(args, deps, commandOutput(ctx), subcommands);
    },
  });

  pi.on("session_start", (_event, ctx) => {
    context = ctx;
    runtime.attachRegistry(withEnvironmentKeyFallbacks(ctx.modelRegistry, process.env));
    runtime.sessionId = ctx.sessionManager?.getSessionId?.() ?? runtime.sessionId;
    registerModels(); // now with the registry's view of each target (windows, prices, custom models.json providers)
    for (const text of pendingWarnings.splice(0)) warn(text);
    engine.start();
    if (isActive(ctx)) status.render();
  });
  pi.on("turn_start", (_event, ctx) => {
    context = ctx;
  });
  pi.on("model_select", (_event, ctx) => {
    context = ctx;
    if (isActive(ctx)) status.render();
    else status.clear();
  });
  pi.on("input", async (event, ctx) => {
    if (event.source === "extension" || !isActive(ctx)) return { action: "continue" };
    await services.backend.ready(); // the first prompt after start routes on the team's state, not a stale local copy
    const parsed = parseShortcuts(event.text);
    if (parsed.shortcuts.tokens.length && parsed.text.trim() === "" && !event.images?.length) {
      show(ctx, shortcutOnlyNotice(parsed.shortcuts), "info");
      return { action: "handled" };
    }
    runtime.setPendingShortcuts(parsed.shortcuts.tokens.length ? parsed.shortcuts : undefined);
    return parsed.shortcuts.tokens.length ? { action: "transform", text: parsed.text, images: event.images } : { action: "continue" };
  });
  pi.on("session_shutdown", async () => {
    await engine.close();
  });
}
