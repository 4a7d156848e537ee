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

/**
 * Whether a provider with these prefixes serves `path`: a prefix matches the path itself and what lies under it, at a
 * segment boundary (`/v1/files` serves `/v1/files/abc`, never `/v1/filesystem`). A prefix's trailing slash does not
 * matter: `/v1/files/` serves `GET /v1/files` too.
 */
export function advertises(prefixes: string[] | undefined, path: string): boolean {
  if (!prefixes) return false;
  return (
    prefixes.length === 0 ||
    prefixes.some((written) => {
      const prefix = written.replace(/\/+$/, "");
      return path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
    })
  );
}

/** Which targets can serve `path`: those whose provider advertises it (route()'s `serves` for a proxied request). */
export const servingPath =
  (prefixes: ReadonlyMap<string, string[]>, path: string) =>
  (target: { provider: string }): boolean =>
    advertises(prefixes.get(target.provider), path);
