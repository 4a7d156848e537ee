// Runs every reliability suite one after another as its own process (so one suite's crash or leftover handle cannot
// affect another), passing the options on (e.g. --quick, --seed N). Exit code 1 if any suite violated an invariant.
//   node --import tsx reliability/run-all.ts [--quick] [--seed N]
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable } from "./suite-report.ts";

export const SUITES = ["chaos", "soak", "concurrency", "corruption", "secrets"] as const;

const here = dirname(fileURLToPath(import.meta.url));
const results = SUITES.map((suite) => {
  const started = Date.now();
  const run = spawnSync(process.execPath, ["--import", "tsx", join(here, `${suite}.ts`), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  return { suite, exit: run.status ?? 1, seconds: Number(((Date.now() - started) / 1000).toFixed(1)) };
});
process.stdout.write(
  `\nReliability suites\n${formatTable(results.map((result) => ({ ...result, result: result.exit === 0 ? "PASS" : "FAIL" })))}`,
);
process.exit(results.some((result) => result.exit !== 0) ? 1 : 0);
