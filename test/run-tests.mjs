#!/usr/bin/env node
// Node 20's --test does not expand globs, so this finds test files and hands them to node:test.
// Usage: node test/run-tests.mjs [--typecheck] [dir-or-file ...]   (default: test/e2e test/integration test/unit)
// --typecheck (`npm test`): the type check (tsc, ~20 s of one core) runs beside the tests, not before them; its
// errors are printed at the end and fail the run.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The slowest files (pi and gateway processes) first, the many quick ones last: with two at a time, the run then ends
// on short files instead of waiting for one long one that started late.
const args = process.argv.slice(2);
const typecheck = args.includes("--typecheck");
const paths = args.filter((arg) => arg !== "--typecheck");
const roots = paths.length ? paths : ["test/e2e", "test/integration", "test/unit"];
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
// The unit test files run in one process, which imports them all: each alone pays ~1 s of CPU for node, tsx and its
// imports, more than most of them take (98 files: ~115 s of CPU against ~17 s in one process). They are pure (no
// process-wide settings, their temp dirs their own); pi and gateway tests keep a process each.
const unitDir = resolve("test/unit");
const unitFiles = files.filter((file) => file.startsWith(`${unitDir}/`));
const entries = unitFiles.length > 1 ? files.filter((file) => !unitFiles.includes(file)) : files;
let unitEntryDir;
if (unitFiles.length > 1) {
  unitEntryDir = mkdtempSync(join(tmpdir(), "auto-router-unit-tests-"));
  const entry = join(unitEntryDir, "unit.test.mjs");
  writeFileSync(entry, unitFiles.map((file) => `import ${JSON.stringify(pathToFileURL(file).href)};\n`).join(""));
  entries.push(entry);
}
let typechecked;
if (typecheck) {
  const tsc = spawn(
    process.execPath,
    [fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url)), "-p", "tsconfig.json", "--noEmit"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  tsc.stdout.on("data", (chunk) => (output += chunk));
  tsc.stderr.on("data", (chunk) => (output += chunk));
  typechecked = new Promise((resolve) => tsc.on("close", (code) => resolve({ code, output })));
}
const concurrency = process.env.TEST_CONCURRENCY ?? "2";
// TAP on stdout as before, and the failed tests alone into a file printed last: a CI record keeps the end of a run.
const reportDir = mkdtempSync(join(tmpdir(), "auto-router-test-report-"));
const failuresFile = join(reportDir, "failures.txt");
// Asynchronous, so that the type check's output is read meanwhile.
const result = await new Promise((resolve) => {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      `--test-concurrency=${concurrency}`,
      "--test-reporter=tap",
      "--test-reporter-destination=stdout",
      `--test-reporter=${fileURLToPath(new URL("./failures-reporter.mjs", import.meta.url))}`,
      `--test-reporter-destination=${failuresFile}`,
      ...entries,
    ],
    { stdio: "inherit" },
  );
  child.on("close", (status) => resolve({ status }));
});
let failures = "";
try {
  failures = readFileSync(failuresFile, "utf8");
} catch {}
if (failures) console.log(`\n# ${failures.replaceAll("\n", "\n# ")}`);
rmSync(reportDir, { recursive: true, force: true });
if (unitEntryDir) rmSync(unitEntryDir, { recursive: true, force: true });
if (typechecked) {
  const { code, output } = await typechecked;
  if (code !== 0) {
    console.log(`\n# the type check (tsc -p tsconfig.json --noEmit) failed:\n${output}`);
    process.exit(1);
  }
  console.log("\n# type check (tsc -p tsconfig.json --noEmit): no errors");
}
process.exit(result.status ?? 1);
