#!/usr/bin/env node
// Requests, success rate, failover rate, by route, by served provider, planned -> served pairs.
import { runAnalyticsCommand } from "./analytics-cli.mjs";

process.exitCode = await runAnalyticsCommand("routingStatsCommand", process.argv.slice(2));
