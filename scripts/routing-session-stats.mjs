#!/usr/bin/env node
// Daily composition, UVI timeline, latency/cost per model, drift, masked errors; --html writes a chart page.
// Thin main: the logic is TypeScript in src/analytics, loaded through tsx (so installed users need tsx at runtime).
import { register } from "tsx/esm/api";

register();

async function main(argv) {
  const { runCli } = await import("../src/analytics/cli-runner.ts");
  const { sessionStatsCommand } = await import("../src/analytics/cli-commands.ts");
  return runCli(sessionStatsCommand, argv);
}

process.exitCode = await main(process.argv.slice(2));
