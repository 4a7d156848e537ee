// The entry pi loads (package.json "pi.extensions"). pi's loader resolves the imports below to the HOST's own pi
// modules on every pi version; they are passed to the prebuilt bundle (dist/auto-router.cjs, built by
// scripts/build-extension.mjs), which then starts without transpiling the sources. Without a build (a checkout before
// `npm install`), or with AUTO_ROUTER_FROM_SOURCE=1, the sources are loaded through pi's loader instead, which
// resolves their pi imports to the same host modules: same behaviour, slower start.
//
// The bundle is compiled with V8's code cache, kept in pi's agent dir (extensions/auto-router.code-cache.bin, beside
// the routes file; never in the install directory): compiling the ~600 KB bundle and the functions its start runs
// costs ~50 ms of every pi start without it (measured: ~110 -> ~57 ms to load and start the bundle). The cache is
// keyed by the bundle's text, Node's version and the architecture, and V8 refuses one made under other flags; a
// missing, stale or refused cache is written anew after the start, and any failure to read or write it only costs
// that time.
import * as piAi from "@mariozechner/pi-ai";
import * as piCodingAgent from "@mariozechner/pi-coding-agent";
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

type Factory = (pi: ExtensionAPI) => void | Promise<void>;
export interface HostModules {
  "@mariozechner/pi-ai": typeof piAi;
  "@mariozechner/pi-coding-agent": typeof piCodingAgent;
}
type CreateAutoRouter = (host: HostModules) => Factory;

const BUNDLE = "./dist/auto-router.cjs";
const CODE_CACHE_NAME = "auto-router.code-cache.bin";
/** The cache file's first line: this format's name and the key of what it was made from. */
const CODE_CACHE_HEADER = "pi-auto-router code cache 1 ";

/** The bundle as compiled once per process (pi evaluates this file again for each session). */
interface LoadedBundle {
  createAutoRouter: CreateAutoRouter;
  /** What became of the code cache, for `/auto-router debug`. */
  codeCache: string;
  /** Writes the cache when it was missing, stale or refused; once, after the first start. */
  saveCodeCache?: () => void;
}
const LOADED_BUNDLES = Symbol.for("pi-auto-router.bundles");

function codeCachePath(): string | undefined {
  try {
    return join(piCodingAgent.getAgentDir(), "extensions", CODE_CACHE_NAME);
  } catch {
    return undefined;
  }
}

/** The cached code made from the bundle text of `key`, if the file holds it. */
function readCodeCache(file: string, key: string): Buffer | undefined {
  try {
    const bytes = readFileSync(file);
    const header = `${CODE_CACHE_HEADER}${key}\n`;
    return bytes.subarray(0, header.length).toString("latin1") === header ? bytes.subarray(header.length) : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (several pi processes may start at once): a temporary file renamed into place. */
function writeCodeCache(file: string, key: string, script: Script): string {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    // The router's state dir may be elsewhere (AUTO_ROUTER_LOG_DIR), so pi's extensions folder may not exist yet.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(
      temporary,
      Buffer.concat([Buffer.from(`${CODE_CACHE_HEADER}${key}\n`, "latin1"), script.createCachedData()]),
      { mode: 0o600 },
    );
    renameSync(temporary, file);
    return "written";
  } catch (error) {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Left behind: the next write of the same process id replaces it.
    }
    return `not written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
}

/** Compiles and runs the bundle's file with the code cache; undefined when there is no bundle (a checkout unbuilt). */
function compileBundle(path: string): LoadedBundle | undefined {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const cacheFile = codeCachePath();
  const key = createHash("sha256").update(`${process.version}\0${process.arch}\0`).update(source).digest("hex");
  const cachedData = cacheFile ? readCodeCache(cacheFile, key) : undefined;
  // The wrapper Node's CommonJS loader puts around a file; the bundle has no dynamic import (its build turns them
  // into require calls), which a script compiled here could not make.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: path,
    cachedData,
  });
  const module = { exports: {} as unknown };
  script.runInThisContext()(module.exports, createRequire(path), module, path, dirname(path));
  const loaded: LoadedBundle = { createAutoRouter: module.exports as CreateAutoRouter, codeCache: "used" };
  if (cachedData && !script.cachedDataRejected) return loaded;
  loaded.codeCache = cacheFile ? (cachedData ? "refused by V8" : "none yet") : "off (no agent dir)";
  if (cacheFile)
    loaded.saveCodeCache = () => {
      loaded.saveCodeCache = undefined;
      loaded.codeCache = `${loaded.codeCache}, ${writeCodeCache(cacheFile, key, script)}`;
    };
  return loaded;
}

/** The bundle of this copy, compiled on its first call in the process. */
function loadBundle(): LoadedBundle | undefined {
  const path = fileURLToPath(new URL(BUNDLE, import.meta.url));
  const bundles = ((globalThis as Record<symbol, unknown>)[LOADED_BUNDLES] ??= new Map()) as Map<
    string,
    LoadedBundle | undefined
  >;
  if (!bundles.has(path)) bundles.set(path, compileBundle(path));
  return bundles.get(path);
}

async function fromBundle(pi: ExtensionAPI, bundle: LoadedBundle, copy: PackageCopy): Promise<void> {
  const factory = bundle.createAutoRouter({
    "@mariozechner/pi-ai": piAi,
    "@mariozechner/pi-coding-agent": piCodingAgent,
  });
  await factory(pi);
  // After the start, so that the cache holds the functions it compiled too.
  bundle.saveCodeCache?.();
  copy.codeCache = bundle.codeCache;
}

async function fromSources(pi: ExtensionAPI): Promise<void> {
  const factory = (await import("./index.ts")).default as Factory;
  await factory(pi);
}

interface PackageCopy {
  root: string;
  version: string;
  /** What became of the bundle's code cache (none when the sources run). */
  codeCache?: string;
}

/** Where this copy of the package was loaded from, and its version. */
function thisCopy(): PackageCopy {
  const root = dirname(fileURLToPath(import.meta.url));
  let version = "unknown";
  try {
    version = String(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
  } catch {
    // A copy without its package.json still runs.
  }
  return { root, version };
}

/** The channel on pi's event bus on which the first copy in a pi answers a later one's roll call. */
const COPIES_CHANNEL = "pi-auto-router:copies";

/**
 * The copy already started in this pi, if it is another one. Two copies (an upgrade installed beside the old one)
 * would both register the provider and the command, and pi renames clashing commands (`/auto-router:1`,
 * `/auto-router:2`): `/auto-router status` would go to the model as a prompt. The second copy stays off and says so.
 * The copies find each other on pi's event bus, shared by every extension of one pi session (pi 0.87 and later give
 * each extension a `pi.events` object of its own over it): the bus calls listeners synchronously, so a roll call
 * emitted while loading comes back answered. The first copy stops answering at session_shutdown (a /reload loads anew).
 */
function otherCopyStarted(pi: ExtensionAPI, copy: PackageCopy): PackageCopy | undefined {
  const rollCall: { first?: PackageCopy } = {};
  pi.events.emit(COPIES_CHANNEL, rollCall);
  if (rollCall.first) return rollCall.first.root === copy.root ? undefined : rollCall.first;
  const stopAnswering = pi.events.on(COPIES_CHANNEL, (data) => {
    const call = data as { first?: PackageCopy };
    call.first ??= copy;
  });
  pi.on("session_shutdown", () => stopAnswering());
  return undefined;
}

function stayOff(pi: ExtensionAPI, copy: PackageCopy, first: PackageCopy): void {
  const text =
    `auto-router: pi-auto-router is loaded twice: ${first.root} (${first.version}) routes, ${copy.root} ` +
    `(${copy.version}) stays off. Remove the copy you do not want: an installed one with pi remove <source> (pi list ` +
    'shows them); one given with -e, in an extensions folder or in settings.json "extensions" is not in pi list: ' +
    "drop it there.";
  pi.on("session_start", (_event, ctx) => {
    if (ctx.hasUI) ctx.ui.notify(text, "warning");
    else process.stderr.write(`${text}\n`);
  });
}

export default async function autoRouterEntry(pi: ExtensionAPI): Promise<void> {
  const copy = thisCopy();
  const first = otherCopyStarted(pi, copy);
  if (first) return stayOff(pi, copy, first);
  // For `/auto-router debug`: only this file knows its own place, so it leaves it where src/package-info.ts reads it.
  (globalThis as Record<symbol, unknown>)[Symbol.for("pi-auto-router.package")] = copy;
  if (process.env.AUTO_ROUTER_FROM_SOURCE === "1") return fromSources(pi);
  const bundle = loadBundle();
  await (bundle ? fromBundle(pi, bundle, copy) : fromSources(pi));
}
