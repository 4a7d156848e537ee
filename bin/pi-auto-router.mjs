#!/usr/bin/env node
// The package's command: `pi-auto-router serve ...`. It runs the prebuilt dist/gateway.mjs (scripts/build-extension.mjs,
// run by `npm install`); a checkout without the build loads the TypeScript sources through tsx (a devDependency).
import { existsSync, readFileSync } from "node:fs";
import { register } from "node:module";

// SIGHUP never stops the gateway: while it loads it is ignored (serve's own listener then takes over).
process.on("SIGHUP", () => {});

// pi's packages by their @mariozechner names: beside this package (a checkout), else in the pi the user runs
// (bin/pi-host-resolve.mjs). The hooks run on a thread of their own, so they are registered only when needed.
if (!resolves("@mariozechner/pi-ai") || !resolves("@mariozechner/pi-coding-agent"))
  register(new URL("./pi-host-resolve.mjs", import.meta.url));

function resolves(specifier) {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const args = process.argv.slice(2);
const bundle = new URL("../dist/gateway.mjs", import.meta.url);
try {
  let main;
  if (existsSync(bundle) && process.env.AUTO_ROUTER_FROM_SOURCE !== "1") {
    ({ main } = await import(bundle.href));
  } else {
    const { register } = await import("tsx/esm/api");
    register();
    ({ main } = await import("../src/gateway/cli.ts"));
  }
  // pi is loaded by serve alone: the help and a usage error are answered without it.
  process.exitCode = await main(args, process.env, version);
} catch (error) {
  // No pi to load (pi-host-resolve.mjs says where it looked and what to set): one line, not a stack trace.
  if (!(error instanceof Error) || !/no pi was found|AUTO_ROUTER_PI_DIR/.test(error.message)) throw error;
  process.stderr.write(`pi-auto-router: ${error.message}\n`);
  process.exit(1);
}
