#!/usr/bin/env node
// Daily composition, UVI timeline, latency/cost per model, drift, masked errors; --html writes a chart page.
import { runAnalyticsCommand } from "./analytics-cli.mjs";

process.exitCode = await runAnalyticsCommand("sessionStatsCommand", process.argv.slice(2));
