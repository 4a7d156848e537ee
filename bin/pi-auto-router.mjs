#!/usr/bin/env node
// The package's command: `pi-auto-router serve ...`. The sources are TypeScript; tsx (a runtime dependency) loads them.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/gateway/cli.ts");
process.exitCode = await main(process.argv.slice(2), process.env);
