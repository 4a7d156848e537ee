// The entry pi loads (package.json "pi.extensions"). pi's loader resolves the imports below to the HOST's own pi
// modules on every pi version; they are handed to the prebuilt bundle (dist/auto-router.cjs, built by
// scripts/build-extension.mjs), which then starts without transpiling the sources. Without a build (a fresh checkout
// before `npm install`), the sources are loaded instead: same behaviour, slower start.
//
// The bundle is compiled with V8's code cache: compiling its ~570 KB was half of its start-up cost. The cache sits
// next to the bundle (whoever may write the bundle may write its cache), is named after a hash of the bundle's
// content and the Node version, so a rebuilt bundle never meets a stale cache, and is skipped when that directory is
// read-only.
import * as piAi from "@mariozechner/pi-ai";
import * as piCodingAgent from "@mariozechner/pi-coding-agent";
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

const HOST_GLOBAL = Symbol.for("pi-auto-router.host");
const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), "dist", "auto-router.cjs");
type Factory = (pi: ExtensionAPI) => void | Promise<void>;
type CommonJsWrapper = (exports: object, require: NodeJS.Require, module: { exports: { default?: Factory } }, filename: string, dirname: string) => void;

/** One evaluation per process, like Node's own module cache (pi may build several sessions in one process). */
let loaded: Factory | undefined;

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function loadBundle(): Factory | undefined {
  const source = readOptional(BUNDLE)?.toString("utf8");
  if (source === undefined) return undefined;
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 16);
  const cacheFile = `${BUNDLE}.${hash}.${process.version}-${process.arch}.v8cache`;
  const cachedData = readOptional(cacheFile);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BUNDLE, cachedData });
  const module: { exports: { default?: Factory } } = { exports: {} };
  (script.runInThisContext() as CommonJsWrapper)(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  if (!cachedData || script.cachedDataRejected) {
    // In the background and atomically; a read-only install directory just means no cache.
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    writeFile(temporary, script.createCachedData(), { mode: 0o644 }).then(() => rename(temporary, cacheFile)).catch(() => {});
  }
  return module.exports.default;
}

/** Where this package was loaded from and its version, for `/auto-router debug`. */
function packageInfo(): { root: string; version: string } {
  const root = dirname(fileURLToPath(import.meta.url));
  try {
    return { root, version: String(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version) };
  } catch {
    return { root, version: "unknown" };
  }
}

function loadFactory(): Factory {
  (globalThis as Record<symbol, unknown>)[HOST_GLOBAL] = {
    "@mariozechner/pi-ai": piAi,
    "@mariozechner/pi-coding-agent": piCodingAgent,
    "pi-auto-router/package": packageInfo(),
  };
  if (process.env.AUTO_ROUTER_FROM_SOURCE === "1") return fromSources;
  loaded ??= loadBundle() ?? fromSources;
  return loaded;
}

async function fromSources(pi: ExtensionAPI): Promise<void> {
  const factory = (await import("./index.ts")).default as Factory;
  await factory(pi);
}

export default async function autoRouterEntry(pi: ExtensionAPI): Promise<void> {
  await loadFactory()(pi);
}
