#!/usr/bin/env node
// Replays logged decisions under another routes file: how many would route differently, and the cost difference.
import { runAnalyticsCommand } from "./analytics-cli.mjs";

process.exitCode = await runAnalyticsCommand("replayCommand", process.argv.slice(2));
