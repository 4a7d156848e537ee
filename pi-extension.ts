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

interface PackageCopy {
  root: string;
  version: string;
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
  await (loadBundle() ?? fromSources)(pi);
}
