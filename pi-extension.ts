// The entry pi loads (package.json "pi.extensions"). pi's loader resolves the imports below to the HOST's own pi
// modules on every pi version; they are passed to the prebuilt bundle (dist/auto-router.cjs, built by
// scripts/build-extension.mjs), which then starts without transpiling the sources. Without a build (a checkout before
// `npm install`), or with AUTO_ROUTER_FROM_SOURCE=1, the sources are loaded through pi's loader instead, which
// resolves their pi imports to the same host modules: same behaviour, slower start.
//
// The bundle is loaded by Node's own require, without a V8 code cache: the cache saved ~15 ms of a start (measured
// again: ~150 -> ~95 ms to load the bundle on a machine under load), and it had to write files into the install
// directory.
import * as piAi from "@mariozechner/pi-ai";
import * as piCodingAgent from "@mariozechner/pi-coding-agent";
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

type Factory = (pi: ExtensionAPI) => void | Promise<void>;
export interface HostModules {
  "@mariozechner/pi-ai": typeof piAi;
  "@mariozechner/pi-coding-agent": typeof piCodingAgent;
}
type CreateAutoRouter = (host: HostModules) => Factory;

const BUNDLE = "./dist/auto-router.cjs";

/** pi evaluates this file again for each session; the bundle itself runs once per process (see its build). */
function loadBundle(): Factory | undefined {
  let createAutoRouter: CreateAutoRouter;
  try {
    createAutoRouter = createRequire(import.meta.url)(BUNDLE) as CreateAutoRouter;
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" &&
      String((error as Error).message).includes("auto-router.cjs")
    )
      return undefined;
    throw error;
  }
  return createAutoRouter({ "@mariozechner/pi-ai": piAi, "@mariozechner/pi-coding-agent": piCodingAgent });
}

async function fromSources(pi: ExtensionAPI): Promise<void> {
  const factory = (await import("./index.ts")).default as Factory;
  await factory(pi);
}

/**
 * Where this package was loaded from and its version, for `/auto-router debug`: only this file knows its own place,
 * so it leaves them where src/package-info.ts reads them (a plain fact, not a module).
 */
function publishPackageInfo(): void {
  const root = dirname(fileURLToPath(import.meta.url));
  let version = "unknown";
  try {
    version = String(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
  } catch {
    // A copy without its package.json still runs.
  }
  (globalThis as Record<symbol, unknown>)[Symbol.for("pi-auto-router.package")] = { root, version };
}

export default async function autoRouterEntry(pi: ExtensionAPI): Promise<void> {
  publishPackageInfo();
  if (process.env.AUTO_ROUTER_FROM_SOURCE === "1") return fromSources(pi);
  await (loadBundle() ?? fromSources)(pi);
}
