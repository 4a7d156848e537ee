// pi-auto-router: wiring only. Registers the auto-router provider, the /auto-router command and the event handlers;
// everything they do lives in src/.
import { join } from "node:path";
import type { ExtensionAPI, ExtensionContext } from "@mariozechner/pi-coding-agent";
import { getAgentDir, VERSION } from "@mariozechner/pi-coding-agent";
import { getApiProvider } from "@mariozechner/pi-ai";
import { RUNS_FROM_BUNDLE } from "./src/build-info.ts";
import { debugCommand } from "./src/commands/debug-command.ts";
import { completeCommand, runCommand } from "./src/commands/dispatch.ts";
import { commandOutput } from "./src/commands/output.ts";
import { createEngine } from "./src/engine.ts";
import { packageInfo } from "./src/package-info.ts";
import { parseShortcuts, shortcutMistakeNotice, shortcutOnlyNotice } from "./src/routing/shortcuts.ts";
import { withEnvironmentKeyFallbacks } from "./src/runtime/env-key-fallback.ts";
import { claimApiName } from "./src/runtime/api-name.ts";
import { createRouterStream } from "./src/runtime/failover-stream.ts";
import { virtualModels } from "./src/runtime/provider-models.ts";
import { findUnknownTargets, reportUnknownTargets } from "./src/config/unknown-targets.ts";
import { catalogueModels, registryLoadError, registryModels } from "./src/runtime/model-catalogue.ts";
import { describeLoad, servesBuiltInRoutes } from "./src/state/config-file.ts";
import { readModelsFileIds } from "./src/state/models-file.ts";
import { redactText } from "./src/state/redact.ts";
import { listingEntries } from "./src/ui/listing-entry.ts";
import { routesFileWarning, selectedRouteGoneNotice } from "./src/ui/selected-route.ts";
import { settleStartRoute } from "./src/ui/start-route.ts";
import { STATUS_KEY, StatusLine } from "./src/ui/status-line.ts";
import { type EndedMessage, isPrintMode, isTextPrintMode, UnansweredOverflow } from "./src/ui/unanswered-overflow.ts";
import { type AnsweredMessage, unroutedAnswerTarget } from "./src/ratings/unrouted-answer.ts";
import { contextUi } from "./src/ui/context-ui.ts";
import { WarningSink } from "./src/ui/warning-sink.ts";
import type { Notify } from "./src/runtime/services.ts";

export const PROVIDER_ID = "auto-router";

export default function autoRouter(pi: ExtensionAPI): void {
  let context: ExtensionContext | undefined;
  const isActive = (ctx: ExtensionContext | undefined) => ctx?.model?.provider === PROVIDER_ID;
  const warnings = new WarningSink();
  const warn: Notify = (text, level) => warnings.warn(text, level);
  const bind = (ctx: ExtensionContext) => {
    context = ctx;
    warnings.attach(ctx);
  };
  const show = (ctx: ExtensionContext, raw: string, level: "info" | "warning") => {
    const text = redactText(raw);
    try {
      if (ctx.hasUI) ctx.ui.notify(text, level);
      else process.stderr.write(`${text}\n`);
    } catch {
      process.stderr.write(`${text}\n`);
    }
  };
  // A stale ctx (a new session or /reload while a request streams) shows nothing until session_start brings a fresh
  // one: contextUi reads it without throwing into the request's attempt.
  const status = new StatusLine(
    (text) => {
      try {
        if (contextUi(context) === "ui") context?.ui.setStatus(STATUS_KEY, isActive(context) ? text : undefined);
      } catch {
        // setStatus itself may find the ctx stale.
      }
    },
    Date.now,
    (text) => {
      if (contextUi(context) === "none") process.stderr.write(`${text}\n`);
    },
    () => engine.plugins.flatMap((plugin) => plugin.statusMarks?.() ?? []),
    () => contextUi(context) === "ui",
    () => (process.stdout.isTTY ? process.stdout.columns : undefined),
  );
  // pi's TUI draws on this terminal: a resized one gets the line built again for its width (until shutdown: a /reload
  // loads the extension again, with a line of its own).
  const onResize = () => status.render();
  if (process.stdout.isTTY) process.stdout.on("resize", onResize);

  const agentDir = getAgentDir();
  // pi's /reload (and a new session) builds the extension afresh: it reads every setting again.
  const engine = createEngine({
    agentDir,
    processEnv: process.env,
    warn,
    status,
    startSettings: { restart: "pi's /reload" },
  });
  const { services, runtime } = engine;
  status.setStandingWarnings(runtime.standingWarnings);
  const host = () => ({
    piVersion: VERSION,
    nodeVersion: process.versions.node,
    packageVersion: packageInfo().version,
    loadPath: packageInfo().root,
    runsFromBundle: RUNS_FROM_BUNDLE,
    codeCache: packageInfo().codeCache,
  });
  const subcommands = [...engine.subcommands, debugCommand(host)];
  const api = claimApiName(PROVIDER_ID);
  const registerModels = () => {
    pi.registerProvider(PROVIDER_ID, {
      name: "Auto Router",
      api: api.name,
      baseUrl: "http://auto-router.invalid",
      apiKey: "auto-router-virtual",
      streamSimple: createRouterStream(runtime),
      models: virtualModels(services.config.current, runtime.currentFacts()),
    });
    api.registered(getApiProvider(api.name) !== undefined);
  };
  const unknownTargets = () => {
    const known = registryModels(runtime.registry()) ?? catalogueModels(readModelsFileIds(agentDir));
    return known ? findUnknownTargets(services.config.current, known) : [];
  };
  const checkConfig = () => {
    // The built-in routes name models of every pi line; the ones this pi lacks are skipped with a reason when routing
    // (explain, /auto-router list and status show them), not warned about: the user wrote none of them.
    if (servesBuiltInRoutes(services.config.state)) return;
    const unknown = unknownTargets();
    // pi leaves out a models.json it cannot read, whole: its providers are then unknown for that reason alone.
    const error = unknown.length > 0 ? registryLoadError(runtime.registry()) : undefined;
    const modelsFile = error ? { path: join(agentDir, "models.json"), error } : undefined;
    reportUnknownTargets(
      unknown,
      services.config.source,
      warnings,
      (path) => services.config.state.locate?.(path),
      modelsFile,
    );
  };
  const markConfig = () => {
    // The last decision's warnings read the config again (a rule naming a provider no route has, added or fixed).
    status.refreshWarnings();
    markRoute();
  };
  const markRoute = () => {
    const selected = isActive(context) ? context!.model!.id : undefined;
    status.setConfigWarning(routesFileWarning(services.config.state, selected, services.config.current.routes));
  };
  const checkSelectedRoute = () => {
    const gone = selectedRouteGoneNotice(
      isActive(context) ? context!.model!.id : undefined,
      services.config.current.routes,
    );
    if (gone) warn(gone, "warning");
  };
  const reload = () => {
    services.config.reload();
    registerModels();
    markConfig();
    checkConfig();
    checkSelectedRoute();
    return describeLoad(services.config.state);
  };
  registerModels();
  markConfig();
  checkConfig();
  services.config.watch(() => {
    registerModels();
    markConfig();
    checkConfig();
    checkSelectedRoute();
  });

  const deps = engine.commandDeps(
    async (provider, modelId) => {
      const model = runtime.registry()?.find(provider, modelId);
      return model ? pi.setModel(model) : false;
    },
    reload,
    unknownTargets,
    () => {
      status.refreshWarnings(); // the plugins' as they read now, beside the last decision's own
      return status.warnings();
    },
  );
  // Newer pi's TUI clips a long widget (and the footer under it): there long listings go into the chat. ctx.mode is
  // "tui" only on those lines; RPC clients keep getting the widget's lines, pi 0.73 the widget (no entry renderers).
  const listing = listingEntries(pi);
  const listingFor = (ctx: ExtensionContext) => ((ctx as { mode?: string }).mode === "tui" ? listing : undefined);
  pi.registerCommand("auto-router", {
    description:
      "Auto router: status, list, explain, switch, budget, circuit, uvi, health, rate, shadow ... (/auto-router help)",
    getArgumentCompletions: (prefix) => completeCommand(prefix, deps, subcommands),
    handler: async (args, ctx) => {
      bind(ctx);
      await runCommand(args, deps, commandOutput(ctx, listingFor(ctx)), subcommands);
      if (isActive(ctx)) status.refreshWarnings();
    },
  });

  pi.on("session_start", async (_event, ctx) => {
    runtime.attachRegistry(withEnvironmentKeyFallbacks(ctx.modelRegistry, process.env));
    runtime.sessionId = ctx.sessionManager?.getSessionId?.() ?? runtime.sessionId;
    registerModels(); // now with the registry's view of each target (windows, prices, custom models.json providers)
    bind(ctx); // after registerModels: warnings about the registered models reach this session
    checkConfig(); // again with pi's registry, which knows models.json and other extensions' providers
    engine.start();
    if (isActive(ctx)) status.select(ctx.model!.id);
    const loaded = services.config.state;
    const builtIn = servesBuiltInRoutes(loaded)
      ? { routesFile: loaded.file, fileHasNoRoutes: loaded.origin !== "defaults" }
      : undefined;
    await settleStartRoute({
      ctx,
      setModel: (model) => pi.setModel(model),
      routerProvider: PROVIDER_ID,
      agentDir,
      routes: services.config.current.routes,
      builtIn,
      show: (text, level) => show(ctx, text, level),
    });
  });
  pi.on("agent_start", () => {
    status.onPromptStart(); // the status line counts a prompt's failovers, over its tool turns
  });
  pi.on("turn_start", (_event, ctx) => {
    bind(ctx);
  });
  pi.on("model_select", (event, ctx) => {
    bind(ctx);
    if (isActive(ctx)) status.select(event.model.id);
    else status.clear();
    markRoute();
  });
  pi.on("input", async (event, ctx) => {
    if (event.source === "extension" || !isActive(ctx)) return { action: "continue" };
    // Another session in this process refreshed pi's model registry (pi 0.73): this session's routes register again.
    if (api.lost((name) => getApiProvider(name))) registerModels();
    // The first prompt after start routes on the team's state, not a stale local copy, and knows every floor's balance.
    await engine.ready();
    const parsed = parseShortcuts(event.text);
    if (parsed.mistake) show(ctx, shortcutMistakeNotice(parsed.mistake), "warning");
    if (parsed.shortcuts.tokens.length && parsed.text.trim() === "" && !event.images?.length) {
      show(ctx, shortcutOnlyNotice(parsed.shortcuts), "info");
      // In print mode the notice went to stderr and the run ends unanswered: exit 1 tells a script so.
      if (isPrintMode(ctx.hasUI, (ctx as { mode?: string }).mode, process.argv)) process.exitCode = 1;
      return { action: "handled" };
    }
    runtime.setPendingPrompt(
      parsed.shortcuts.tokens.length ? parsed.shortcuts : undefined,
      event.source === "interactive",
    );
    return parsed.shortcuts.tokens.length
      ? { action: "transform", text: parsed.text, images: event.images }
      : { action: "continue" };
  });
  const overflow = new UnansweredOverflow(PROVIDER_ID);
  pi.on("message_end", (event, ctx) => {
    overflow.onMessageEnd(event.message as EndedMessage);
    const unrouted = unroutedAnswerTarget(event.message as AnsweredMessage, ctx.model?.provider, PROVIDER_ID);
    if (unrouted) for (const plugin of engine.plugins) plugin.onUnroutedAnswer?.(unrouted, Date.now());
  });
  pi.on("session_shutdown", async (_event, ctx) => {
    const unanswered = overflow.take();
    if (unanswered && isTextPrintMode(ctx.hasUI, (ctx as { mode?: string }).mode, process.argv)) {
      process.stderr.write(`${redactText(unanswered)}\n`);
      process.exitCode = 1;
    }
    warnings.close();
    api.release();
    process.stdout.off("resize", onResize);
    await engine.close();
  });
}
