// A gateway request naming a `provider/model` runs on a one-target route of that id (gateway/model-names.ts'
// DirectRoutes; a configured route id holds no "/", a proxied request's pseudo-route has spaces and parentheses):
// the router's texts name the model asked for, not "every target of route p/m", which reads as a route of several.

/** The route is a gateway request's one `provider/model`, not a route of the routes file or a tier's route. */
export const isDirectModel = (routeId: string): boolean => routeId.includes("/") && !/[\s(]/.test(routeId);

/** The subject of "... failed", "... is resting", "... is over budget": the route's every target, or the one model. */
export const everyTargetOf = (routeId: string): string =>
  isDirectModel(routeId) ? `model ${routeId}` : `every target of route ${routeId}`;
