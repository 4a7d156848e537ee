// At session start, the model pi picked may not be the route the user meant: a resumed session on the last answer's
// target, a saved default naming a route that is gone, or one the earlier pi-auto-router had built in. This puts the
// session back on its route where there is one, and says what pi runs where there is none.
import type { ExtensionContext } from "@mariozechner/pi-coding-agent";
import { SettingsManager } from "@mariozechner/pi-coding-agent";
import { routeIdOf } from "../config/alias-names.ts";
import { earlierBuiltIn } from "../config/defaults.ts";
import type { RouteConfig } from "../config/schema.ts";
import { modelChosenOnCommandLine, restoredRouteNotice, routeToRestore } from "../runtime/resumed-route.ts";
import {
  type BuiltInRoutesNote,
  defaultRouteGoneNotice,
  resumedRouteGoneNotice,
  startsOnDefault,
} from "./missing-route-notice.ts";

export interface StartRouteInput {
  ctx: ExtensionContext;
  setModel: (model: NonNullable<ExtensionContext["model"]>) => Promise<boolean>;
  routerProvider: string;
  agentDir: string;
  routes: Record<string, RouteConfig>;
  /** Set when the built-in routes serve (no routes file, or one without routes): names where the file is. */
  builtIn: BuiltInRoutesNote | undefined;
  show: (text: string, level: "info" | "warning") => void;
}

/**
 * The built-in route in place of an earlier pi-auto-router's built-in route id (written bare or as
 * `auto-router/<id>`), when the built-in routes serve.
 */
export function earlierRouteCounterpart(
  route: string,
  routes: Record<string, unknown>,
  builtIn: BuiltInRoutesNote | undefined,
): string | undefined {
  const counterpart = builtIn ? earlierBuiltIn(routeIdOf(route))?.inPlace : undefined;
  return counterpart !== undefined && Object.hasOwn(routes, counterpart) ? counterpart : undefined;
}

const EARLIER = "a built-in route of the earlier pi-auto-router";

export async function settleStartRoute(input: StartRouteInput): Promise<void> {
  const { ctx, routerProvider, routes, builtIn, show } = input;
  // pi resumes on the last answer's target when it has it with credentials, else on its default model.
  const restorable = (provider: string, id: string) => {
    const model = ctx.modelRegistry.find(provider, id);
    return model !== undefined && ctx.modelRegistry.hasConfiguredAuth(model);
  };
  const branch = ctx.sessionManager?.getBranch?.() ?? [];
  const restored = routeToRestore(branch, ctx.model, routerProvider, restorable);
  const chosen = modelChosenOnCommandLine(process.argv);
  const taken = ctx.model;
  const routeModel = (route: string) => ctx.modelRegistry.find(routerProvider, route);
  // An earlier router's route goes on the one in its place only when that route has a target pi can call: else pi's
  // own choice answers, and the warning names the route in its place.
  const usable = (route: string) => routes[route]?.targets.some((t) => restorable(t.provider, t.modelId)) === true;
  const inPlace = (route: string) => {
    const counterpart = earlierRouteCounterpart(route, routes, builtIn);
    return counterpart === undefined
      ? undefined
      : { counterpart, model: usable(counterpart) ? routeModel(counterpart) : undefined };
  };
  const unusable = (place: { counterpart: string } | undefined, route: string) =>
    place
      ? `. ${route}, ${EARLIER}, is ${routerProvider}/${place.counterpart} here, but pi has credentials for none of its targets`
      : "";
  if (restored && !chosen && taken) {
    const model = routeModel(restored.route);
    if (model) {
      if (await input.setModel(model)) show(restoredRouteNotice(restored, routerProvider, taken), "info");
      return;
    }
    const place = inPlace(restored.route);
    if (place?.model && (await input.setModel(place.model))) {
      show(
        `auto-router: this session's route ${routerProvider}/${restored.route} is ${EARLIER}; the session continues ` +
          `on ${routerProvider}/${place.counterpart} in its place (pi had resumed it on ${taken.provider}/${taken.id})`,
        "info",
      );
      return;
    }
    const gone = resumedRouteGoneNotice(restored.route, routerProvider, taken, routes, builtIn);
    show(gone + unusable(place, restored.route), "warning");
    return;
  }
  if (restored || chosen || !startsOnDefault(branch) || taken?.provider === routerProvider) return;
  const settings = SettingsManager.create(ctx.cwd, input.agentDir);
  const defaults = { provider: settings.getDefaultProvider(), model: settings.getDefaultModel() };
  const place =
    defaults.provider === routerProvider && defaults.model !== undefined ? inPlace(defaults.model) : undefined;
  if (place?.model && (await input.setModel(place.model))) {
    show(
      `auto-router: pi's default model in settings.json (defaultModel "${defaults.model}") is ${EARLIER}; pi runs ` +
        `${routerProvider}/${place.counterpart} in its place (to start on it without this note: "defaultModel": ` +
        `"${place.counterpart}" in settings.json)`,
      "info",
    );
    return;
  }
  const gone = defaultRouteGoneNotice(defaults, routerProvider, taken, routes, builtIn);
  if (gone) show(gone + unusable(place, defaults.model!), "warning");
}
