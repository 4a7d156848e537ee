#!/usr/bin/env node
// Node 20's --test does not expand globs, so this finds test files and hands them to node:test.
// Usage: node test/run-tests.mjs [dir-or-file ...]   (default: test/e2e test/integration test/unit)
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The slowest files (pi and gateway processes) first, the many quick ones last: with two at a time, the run then ends
// on short files instead of waiting for one long one that started late.
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["test/e2e", "test/integration", "test/unit"];
const files = [];
const walk = (path) => {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return;
  }
  if (stat.isFile()) {
    if (path.endsWith(".test.ts") || path.endsWith(".test.mjs")) files.push(path);
    return;
  }
  for (const entry of readdirSync(path).sort()) walk(join(path, entry));
};
for (const root of roots) walk(resolve(root));
if (files.length === 0) {
  console.error(`no test files under ${roots.join(", ")}`);
  process.exit(1);
}
// pi loads the extension from its prebuilt bundle (pi-extension.ts -> dist/auto-router.cjs): rebuild it so the
// tests never run stale code.
const built = spawnSync(process.execPath, [fileURLToPath(new URL("../scripts/build-extension.mjs", import.meta.url))], {
  stdio: "inherit",
});
if (built.status !== 0) process.exit(built.status ?? 1);
const concurrency = process.env.TEST_CONCURRENCY ?? "2";
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
