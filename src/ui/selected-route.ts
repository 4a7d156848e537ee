// The route pi has selected, after the routes file changed: one that is gone fails every prompt with "route X is not
// in the config", so the change says so at once, with what to pick instead.
export function selectedRouteGoneNotice(
  selected: string | undefined,
  routes: Record<string, unknown>,
): string | undefined {
  if (selected === undefined || Object.hasOwn(routes, selected)) return undefined;
  const known = Object.keys(routes);
  return (
    `auto-router: the selected route ${selected} is no longer in the routes file; its prompts fail until you pick ` +
    `another with /model or /auto-router switch${known.length ? ` (routes: ${known.join(", ")})` : ""}`
  );
}

/**
 * What stands wrong with the routes file or the selected route until it is fixed, as the status line says it: every
 * prompt of a route gone from the file fails, so it is said for as long as that route is selected, not only in the one
 * notice of the change.
 */
export function routesFileWarning(
  loaded: { issues: ReadonlyArray<{ severity: string }>; origin: string },
  selected: string | undefined,
  routes: Record<string, unknown>,
): string | undefined {
  if (loaded.issues.some((issue) => issue.severity === "error")) return "config invalid";
  if (loaded.origin === "missing") return "routes file removed";
  return selected !== undefined && !Object.hasOwn(routes, selected) ? "route not in routes file" : undefined;
}
