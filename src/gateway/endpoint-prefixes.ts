// Which paths the wildcard proxy serves: each provider lists the path prefixes it accepts in the routes file
// (`providers.<id>.endpointPrefixes`; an empty list accepts every path, a provider without the entry serves none).
import type { RouterConfig } from "../config/schema.ts";

/** Which prefixes each provider advertises; a provider without an entry serves no proxied path. */
export function advertisedPrefixes(config: RouterConfig): Map<string, string[]> {
  return new Map(
    Object.entries(config.providers ?? {}).flatMap(([provider, settings]) =>
      settings.endpointPrefixes ? [[provider, settings.endpointPrefixes] as const] : [],
    ),
  );
}

export function advertises(prefixes: string[] | undefined, path: string): boolean {
  if (!prefixes) return false;
  return (
    prefixes.length === 0 ||
    prefixes.some(
      (prefix) =>
        path === prefix ||
        path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`) ||
        path.startsWith(`${prefix}?`),
    )
  );
}
