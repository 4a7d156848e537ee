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
