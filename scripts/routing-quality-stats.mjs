#!/usr/bin/env node
// Ratings joined to requests: positive share by route/provider/model/tier/intent/outcome/tag, failover share, recent ratings.
import { runAnalyticsCommand } from "./analytics-cli.mjs";

process.exitCode = await runAnalyticsCommand("qualityStatsCommand", process.argv.slice(2));
