// The entry pi loads (package.json "pi.extensions"). pi's loader resolves the imports below to the HOST's own pi
// modules on every pi version; they are handed to the prebuilt bundle (dist/auto-router.mjs, see
// scripts/build-extension.mjs), which then starts without transpiling the sources. Without a build (a fresh checkout
// before `npm install`), the sources are loaded instead: same behaviour, slower start.
import * as piAi from "@mariozechner/pi-ai";
import * as piCodingAgent from "@mariozechner/pi-coding-agent";
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";

const HOST_GLOBAL = Symbol.for("pi-auto-router.host");
// A variable specifier: the bundle is build output without type declarations.
const BUNDLE = "./dist/auto-router.mjs";
type Factory = (pi: ExtensionAPI) => void | Promise<void>;

async function loadFactory(): Promise<Factory> {
  (globalThis as Record<symbol, unknown>)[HOST_GLOBAL] = { "@mariozechner/pi-ai": piAi, "@mariozechner/pi-coding-agent": piCodingAgent };
  if (process.env.AUTO_ROUTER_FROM_SOURCE !== "1") {
    try {
      return (await import(BUNDLE)).default as Factory;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw error;
    }
  }
  return (await import("./index.ts")).default as Factory;
}

export default async function autoRouterEntry(pi: ExtensionAPI): Promise<void> {
  const factory = await loadFactory();
  await factory(pi);
}
