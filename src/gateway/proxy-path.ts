// What a proxied path may hold: the prefix check (endpoint-prefixes.ts) reads the path as the client sent it, while
// the upstream URL parser resolves dot segments (`..`, `%2e%2e`) and reads a backslash as a slash, so such a path
// could reach an endpoint its provider never advertised. Those paths are refused before any target is chosen.
import { GatewayError } from "./errors.ts";

/** `.` or `..`, each dot literal or percent-encoded in any case. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
/** An encoded slash or backslash, or a literal backslash: each can move segment boundaries upstream. */
const SEPARATOR = /%2f|%5c|\\/i;

/** Why the proxy refuses this path (a 400), or undefined when it may be forwarded as it is. */
export function pathProblem(path: string): string | undefined {
  if (SEPARATOR.test(path)) return "an encoded slash or a backslash (%2F, %5C, \\)";
  if (path.split("/").some((segment) => DOT_SEGMENT.test(segment))) return "a dot segment (. or .., %2e)";
  return undefined;
}

/**
 * A request target's path and its whole query string (from its first `?`, that `?` included, "" when it has none):
 * a query's own `?`s (`next=https://x.example/cb?a=1`) are part of it and go upstream as they came.
 */
export function splitUrl(url: string): { path: string; query: string } {
  const mark = url.indexOf("?");
  return mark < 0 ? { path: url, query: "" } : { path: url.slice(0, mark), query: url.slice(mark) };
}

export function checkProxiedPath(method: string, path: string): void {
  const problem = pathProblem(path);
  if (problem)
    throw new GatewayError(
      400,
      "invalid_request",
      `path refused: ${method} ${path} holds ${problem}, which the upstream would read as another path; send the path it means`,
    );
}
