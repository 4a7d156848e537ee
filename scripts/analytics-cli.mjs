// Runs one of the analytics commands behind scripts/routing-*.mjs: from the bundle that `npm install` builds
// (dist/routing-cli.mjs, no TypeScript tooling needed), or, in a checkout without it, from the TypeScript sources
// through tsx (a devDependency). A module those scripts import, not a script: run directly, it says so and exits 2.
import { readdirSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

export async function runAnalyticsCommand(commandName, argv) {
  const cli = await loadCli();
  if (!cli) {
    process.stderr.write(
      "pi-auto-router: dist/routing-cli.mjs is missing; run `npm install` (or `npm run build`) in the package\n",
    );
    return 2;
  }
  return cli.runCli(cli[commandName], argv);
}

async function loadCli() {
  const bundle = new URL("../dist/routing-cli.mjs", import.meta.url);
  try {
    return await import(bundle.href);
  } catch (error) {
    // Only the bundle itself missing: a module it imports that is missing (a package it must not need) is a bug to
    // show as it is, not "run npm install".
    if (
      error?.code !== "ERR_MODULE_NOT_FOUND" ||
      !String(error.message).startsWith(`Cannot find module '${fileURLToPath(bundle)}'`)
    )
      throw error;
  }
  let register;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    return undefined;
  }
  register();
  const [runner, commands] = await Promise.all([
    import("../src/analytics/cli-runner.ts"),
    import("../src/analytics/cli-commands.ts"),
  ]);
  return { ...runner, ...commands };
}

/** True when node was started on this file itself (`node scripts/analytics-cli.mjs`), not on a script importing it. */
function runDirectly() {
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (runDirectly()) {
  const scripts = readdirSync(new URL(".", import.meta.url))
    .filter((name) => /^routing-.+\.mjs$/.test(name))
    .sort();
  process.stderr.write(
    [
      "scripts/analytics-cli.mjs is the loader the routing-*.mjs scripts share, not a script to run. Run one of:",
      ...scripts.map((name) => `  node scripts/${name} [--help]`),
      'See README.md, "Event log and analytics".',
      "",
    ].join("\n"),
  );
  process.exitCode = 2;
}
