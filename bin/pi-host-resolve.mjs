// Module resolution hooks for `pi-auto-router serve` (registered by bin/pi-auto-router.mjs): the gateway imports pi's
// packages by their `@mariozechner/*` names, as the extension does, but runs outside pi, where pi's loader maps those
// names to the host's own copies. A checkout with its devDependencies resolves them from node_modules; an installed
// package does not have them (pi installs packages with `npm install --omit=dev`, and pi's packages are peers), so
// the gateway uses the pi the user runs: AUTO_ROUTER_PI_DIR (a pi-coding-agent package folder), else the `pi` command
// on PATH. On the newer `@earendil-works` line the names map as pi's own extension loader maps them.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const HOST_NAMES = /^@mariozechner\/(pi-ai|pi-coding-agent)(\/.*)?$/;
const PI_PACKAGES = new Set(["@mariozechner/pi-coding-agent", "@earendil-works/pi-coding-agent"]);

let host;

/** The pi-coding-agent package folder at or above `start`, with its package name. */
function packageAbove(start) {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        const name = JSON.parse(readFileSync(manifest, "utf8")).name;
        if (PI_PACKAGES.has(name)) return { dir, name };
      } catch {
        // not a readable manifest: keep looking above
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function findHost() {
  if (host !== undefined) return host;
  const explicit = process.env.AUTO_ROUTER_PI_DIR;
  if (explicit) {
    host = packageAbove(explicit) ?? null;
    if (!host)
      throw new Error(
        `AUTO_ROUTER_PI_DIR=${explicit}: expected the folder of an installed @earendil-works/pi-coding-agent or @mariozechner/pi-coding-agent package`,
      );
    return host;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const command = join(dir || ".", "pi");
    if (!existsSync(command)) continue;
    const found = packageAbove(dirname(realpathSync(command)));
    if (found) return (host = found);
  }
  return (host = null);
}

export async function resolve(specifier, context, nextResolve) {
  const match = HOST_NAMES.exec(specifier);
  if (!match) return nextResolve(specifier, context);
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    const pi = findHost();
    if (!pi)
      throw new Error(
        `${specifier} is not installed beside pi-auto-router and no pi was found: put the \`pi\` command on PATH or set AUTO_ROUTER_PI_DIR to the folder of an installed pi-coding-agent package`,
      );
    const [, name, rest = ""] = match;
    // What pi's own extension loader maps the names to on the newer line: pi-ai's compat entry and pi's index.
    const mapped =
      pi.name === "@mariozechner/pi-coding-agent"
        ? specifier
        : `@earendil-works/${name}${name === "pi-ai" && rest === "" ? "/compat" : rest}`;
    return nextResolve(mapped, { ...context, parentURL: pathToFileURL(join(pi.dir, "package.json")).href });
  }
}
