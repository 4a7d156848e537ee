// This package's root and version as pi-extension.ts found them (it sits at the package root; the bundle and the
// sources cannot tell where they were loaded from on their own), for `/auto-router debug`.
const HOST_GLOBAL = Symbol.for("pi-auto-router.host");

export function packageInfo(): { root: string; version: string } {
  const host = (globalThis as Record<symbol, Record<string, unknown> | undefined>)[HOST_GLOBAL];
  const info = host?.["pi-auto-router/package"] as { root?: string; version?: string } | undefined;
  return { root: info?.root ?? "unknown", version: info?.version ?? "unknown" };
}
