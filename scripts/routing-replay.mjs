#!/usr/bin/env node
// Replays logged decisions under another routes file: how many would route differently, and the cost difference.
// Thin main: the logic is TypeScript in src/analytics, loaded through tsx (so installed users need tsx at runtime).
import { register } from "tsx/esm/api";

register();

async function main(argv) {
  const { runCli } = await import("../src/analytics/cli-runner.ts");
  const { replayCommand } = await import("../src/analytics/cli-commands.ts");
  return runCli(replayCommand, argv);
}

process.exitCode = await main(process.argv.slice(2));
