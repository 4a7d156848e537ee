#!/usr/bin/env node
// Node 20's --test does not expand globs, so this finds test files and hands them to node:test.
// Usage: node test/run-tests.mjs [--typecheck] [dir-or-file ...]   (default: test/e2e test/integration test/unit)
// --typecheck (`npm test`): the type check (tsc, ~20 s of one core) runs beside the tests, not before them; its
// errors are printed at the end and fail the run.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

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
// The slowest files first, the many quick ones last: with three at a time, the run then ends on short files instead of
// waiting for one long one that started late. node:test sorts the files it is handed by path, whatever order they
// come in (so test/unit's entry, in the temp dir, ran first and test/e2e/tui.test.ts near the end): each file is run
// through an entry in a temp dir whose numbered name sorts where the file should start, and which imports it.
// Seconds of each file in `TEST_CONCURRENCY=3 npm test` on a 2-core machine shared with other work (2026-12-02: the
// whole run took 2,260 s there; the order is what counts). Files not listed start after these, in path order, and the
// unit tests' one process last (the integration files' and the gateway files' processes are lines of the list). A new file that takes
// minutes belongs in this list.
const SLOWEST_FIRST = [
  "e2e/gateway", // the gateway's e2e files in one process: ~200 s alone on a quiet machine
  "e2e/team-mode", // 543 s
  "e2e/team-store-problems", // 539 s
  "e2e/quota-cli", // 504 s
  "integration", // the integration files in one process: 117 s alone on a quiet machine, ~2 minutes of CPU
  "e2e/subscription-cli", // 327 s
  "e2e/install", // 277 s
  "e2e/reliability-suites", // 270 s
  "e2e/team-legacy-import", // 248 s
  "e2e/cli-failover", // 211 s
  "e2e/config-startup", // 202 s
  "e2e/cli-compat", // 201 s
  "e2e/budget-cli", // 200 s
  "e2e/cli-account-failures", // 147 s
  "e2e/shipped-entry", // 136 s
  "e2e/balance-cli", // 129 s
  "e2e/quota-health-cli", // 128 s
  "e2e/cli-provider-surprises", // 124 s
  "e2e/cli-resume", // 98 s
  "e2e/tui", // 74 s
  "e2e/demo", // 74 s
  "e2e/cli-shortcuts", // 66 s
  "e2e/team-state-push", // new: 16 s alone at load ~3.7 (5 pi runs and a Redis), not measured in that run
];
// A file's name in that list: its path under test/ without .test.ts (a file outside test/: its base name).
function testName(file) {
  const path = relative(fileURLToPath(new URL(".", import.meta.url)), file);
  return (path.startsWith("..") ? basename(path) : path).replace(/\.test\.(ts|mjs)$/, "");
}
const rank = (name) => {
  const index = SLOWEST_FIRST.indexOf(name);
  return index === -1 ? SLOWEST_FIRST.length + (name === "unit" ? 1 : 0) : index;
};
// pi loads the extension from its prebuilt bundle (pi-extension.ts -> dist/auto-router.cjs): rebuild it so the
// tests never run stale code. RUN_TESTS_BUILT=1: the caller has just built it (the pi version matrix builds once, then
// runs its lines side by side, which must not rebuild the bundle under each other).
if (process.env.RUN_TESTS_BUILT !== "1") {
  const built = spawnSync(
    process.execPath,
    [fileURLToPath(new URL("../scripts/build-extension.mjs", import.meta.url))],
    { stdio: "inherit" },
  );
  if (built.status !== 0) process.exit(built.status ?? 1);
}
// The unit test files run in one process, which imports them all, and so do the integration test files: each alone
// pays ~1 s of CPU for node, tsx and its imports, and an integration file ~4 s more for pi's SDK, its extension loader
// and the bundle, more than most of them take (98 unit files: ~115 s of CPU against ~17 s in one process; 36
// integration files: ~235 s against ~100 s, in less time than they took side by side). Their files run one after the
// other there, each with temp dirs of its own. A file that counts what the process has loaded, or otherwise needs a
// process of its own, says so in a line of its own: `// run-tests: own process (why)`.
const OWN_PROCESS = /^\/\/ run-tests: own process\b/m;
// The gateway's e2e files (test/e2e/gateway-*) share one too: each starts its own gateway processes and clients, and
// one process for the 28 of them took ~160 s of CPU against ~240 s side by side.
const GROUPS = [
  { name: "unit", start: `${resolve("test", "unit")}/` },
  { name: "integration", start: `${resolve("test", "integration")}/` },
  { name: "e2e/gateway", start: `${resolve("test", "e2e", "gateway-")}` },
];
const groupOf = (file) => {
  const group = GROUPS.find(({ start }) => file.startsWith(start));
  if (!group) return undefined;
  return OWN_PROCESS.test(readFileSync(file, "utf8")) ? undefined : group.name;
};
const groups = new Map();
const singles = [];
for (const file of files) {
  const group = groupOf(file);
  if (group) groups.set(group, [...(groups.get(group) ?? []), file]);
  else singles.push(file);
}
for (const [group, members] of groups)
  if (members.length === 1) {
    singles.push(members[0]);
    groups.delete(group);
  }
const ordered = [
  ...singles.map((file) => ({ name: testName(file), files: [file] })),
  ...[...groups].map(([group, members]) => ({ name: group, files: members })),
]
  .map((entry, index) => ({ ...entry, index }))
  .sort((a, b) => rank(a.name) - rank(b.name) || a.index - b.index);
// Each entry's name: its place, then the file or group it runs (test/e2e/tui.test.ts -> 031-e2e--tui.test.mjs), so a
// report naming an entry still says which file; the failures reporter names the file itself (RUN_TESTS_ENTRIES).
const entryDir = mkdtempSync(join(tmpdir(), "auto-router-test-entries-"));
const entries = [];
const entryFiles = {};
ordered.forEach(({ name, files: group }, index) => {
  const entry = join(entryDir, `${String(index).padStart(3, "0")}-${name.replaceAll("/", "--")}.test.mjs`);
  writeFileSync(entry, group.map((file) => `import ${JSON.stringify(pathToFileURL(file).href)};\n`).join(""));
  entries.push(entry);
  // A group is named by where its files are (test/e2e/gateway-*: no directory of that name).
  const where = GROUPS.find((candidate) => candidate.name === name)?.start;
  entryFiles[entry] =
    group.length > 1
      ? `${where?.endsWith("/") ? where : `${where}*`} (${group.length} files in one process)`
      : group[0];
});
const entriesFile = join(entryDir, "entries.json");
writeFileSync(entriesFile, JSON.stringify(entryFiles));
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
    { stdio: "inherit", env: { ...process.env, RUN_TESTS_ENTRIES: entriesFile } },
  );
  child.on("close", (status) => resolve({ status }));
});
let failures = "";
try {
  failures = readFileSync(failuresFile, "utf8");
} catch {}
if (failures) console.log(`\n# ${failures.replaceAll("\n", "\n# ")}`);
rmSync(reportDir, { recursive: true, force: true });
rmSync(entryDir, { recursive: true, force: true });
if (typechecked) {
  const { code, output } = await typechecked;
  if (code !== 0) {
    console.log(`\n# the type check (tsc -p tsconfig.json --noEmit) failed:\n${output}`);
    process.exit(1);
  }
  console.log("\n# type check (tsc -p tsconfig.json --noEmit): no errors");
}
process.exit(result.status ?? 1);
