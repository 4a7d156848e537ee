// A session or a saved default that names a route the routes file no longer has: pi then runs a raw model, with no
// routing and no failover, and says nothing. The session start says so, with what pi runs and the routes there are.
import { closestKey } from "../config/key-suggestions.ts";
import type { ModelRef } from "../runtime/resumed-route.ts";

const routesList = (routes: Record<string, unknown>): string => {
  const known = Object.keys(routes);
  return known.length ? ` (routes: ${known.join(", ")})` : "";
};

/**
 * Where the routes are: the routes file, or the built-in routes when there is none or it has no routes of its own
 * (`builtIn` names the file, and `fileHasNoRoutes` says it is there).
 */
export interface BuiltInRoutesNote {
  routesFile: string;
  fileHasNoRoutes?: boolean;
}
const notAmong = (builtIn: BuiltInRoutesNote | undefined, was: string): string =>
  builtIn
    ? `is not one of the built-in routes (${
        builtIn.fileHasNoRoutes
          ? `the routes file ${builtIn.routesFile} has no routes of its own`
          : `there is no routes file, ${builtIn.routesFile}`
      })`
    : `is ${was} in the routes file`;

/**
 * `pi --continue` on a session whose route is gone: pi stays on the raw model it resumed it on. `builtIn` as for
 * defaultRouteGoneNotice: without a routes file the route is no built-in one (it was never "in the routes file").
 */
export function resumedRouteGoneNotice(
  route: string,
  routerProvider: string,
  taken: ModelRef,
  routes: Record<string, unknown>,
  builtIn?: BuiltInRoutesNote,
): string {
  return (
    `auto-router: this session's route ${routerProvider}/${route} ${notAmong(builtIn, "no longer")}; it continues on ` +
    `${taken.provider}/${taken.id} alone, with no failover, until you pick a route with /model or /auto-router ` +
    `switch${routesList(routes)}`
  );
}

/**
 * settings.json's defaultProvider/defaultModel name a route that is gone: pi started on another model. `builtIn`
 * names the routes file when there is none, so the built-in routes are the routes there are (an earlier router's
 * route id there, `subscription-premium`, is in no routes file either).
 */
export function defaultRouteGoneNotice(
  defaults: { provider?: string; model?: string },
  routerProvider: string,
  taken: ModelRef | undefined,
  routes: Record<string, unknown>,
  builtIn?: BuiltInRoutesNote,
): string | undefined {
  if (defaults.provider !== routerProvider || defaults.model === undefined) return undefined;
  if (Object.hasOwn(routes, defaults.model)) return undefined;
  const now = taken ? `pi started on ${taken.provider}/${taken.id} instead` : "pi started without a model";
  const setting = `pi's default model in settings.json (defaultProvider "${routerProvider}", defaultModel "${defaults.model}")`;
  // `auto-router/<route>`, as /model lists it: pi reads defaultModel as the id alone, so it finds no such model.
  const prefix = `${routerProvider}/`;
  const bare = defaults.model.startsWith(prefix) ? defaults.model.slice(prefix.length) : undefined;
  if (bare !== undefined && Object.hasOwn(routes, bare))
    return (
      `auto-router: ${setting} names route ${bare} with its provider in front, which pi does not read as that ` +
      `route; ${now}. Write "defaultModel": "${bare}", or pick the route with /model`
    );
  // A misspelt route id (`chian`): the id to write, as `--model auto-router/chian` is answered.
  const near = closestKey(bare ?? defaults.model, Object.keys(routes));
  const meant = near ? ` Did you mean "${near}"? Write "defaultModel": "${near}", or pick` : " Pick";
  return `auto-router: ${setting} names a route that ${notAmong(builtIn, "not")}; ${now}.${meant} a route with /model${routesList(routes)}`;
}

/** A session with no message yet: pi starts a new one on its default model (it records that model right away). */
export const startsOnDefault = (branch: ReadonlyArray<{ type: string }>): boolean =>
  !branch.some((entry) => entry.type === "message");
