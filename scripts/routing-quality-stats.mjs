#!/usr/bin/env node
// Ratings joined to requests: positive share by route/provider/model/tier/intent/outcome/tag, failover share, recent ratings.
// Thin main: the logic is TypeScript in src/analytics, loaded through tsx (so installed users need tsx at runtime).
import { register } from "tsx/esm/api";

register();

async function main(argv) {
  const { runCli } = await import("../src/analytics/cli-runner.ts");
  const { qualityStatsCommand } = await import("../src/analytics/cli-commands.ts");
  return runCli(qualityStatsCommand, argv);
}

process.exitCode = await main(process.argv.slice(2));
