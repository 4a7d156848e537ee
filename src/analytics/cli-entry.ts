// The entry of dist/routing-cli.mjs (scripts/build-extension.mjs): what scripts/routing-*.mjs run.
export { runCli } from "./cli-runner.ts";
export { qualityStatsCommand, replayCommand, routingStatsCommand, sessionStatsCommand } from "./cli-commands.ts";
