// This package's root and version as pi-extension.ts found them (it sits at the package root; the bundle and the
// sources cannot tell where they were loaded from on their own), and what became of the bundle's V8 code cache, for
// `/auto-router debug`.
const PACKAGE_INFO = Symbol.for("pi-auto-router.package");

export function packageInfo(): { root: string; version: string; codeCache?: string } {
  const info = (globalThis as Record<symbol, { root?: string; version?: string; codeCache?: string } | undefined>)[
    PACKAGE_INFO
  ];
  return { root: info?.root ?? "unknown", version: info?.version ?? "unknown", codeCache: info?.codeCache };
}
