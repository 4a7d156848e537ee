#!/usr/bin/env node
// Requests, success rate, failover rate, by route, by served provider, planned -> served pairs.
// Thin main: the logic is TypeScript in src/analytics, loaded through tsx (so installed users need tsx at runtime).
import { register } from "tsx/esm/api";

register();

async function main(argv) {
  const { runCli } = await import("../src/analytics/cli-runner.ts");
  const { routingStatsCommand } = await import("../src/analytics/cli-commands.ts");
  return runCli(routingStatsCommand, argv);
}

process.exitCode = await main(process.argv.slice(2));
