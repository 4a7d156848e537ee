// One process's memory once pi's SDK session is up, without or with the extension (argv[2]: "without" | "with"):
// prints `<rss> <heapUsed>` in bytes. Run by product-cost.bench.ts in fresh processes, so nothing else loaded in the
// bench skews the figure. It must run under `--import tsx/esm`, not `--import tsx`: tsx's CommonJS hook would
// transform the shipped bundle (dist/auto-router.cjs, loaded by Node's require as under pi) and keep a copy of it
// with an inline source map, ~22 MiB that a user's pi never spends.
import { createSdkHarness } from "../test/helpers/sdk-harness.ts";

const withExtension = process.argv[2] === "with";
const harness = await createSdkHarness({
  targets: [{ provider: "rss-target", models: [{ id: "model" }] }],
  routes: { routes: { main: { targets: [{ provider: "rss-target", modelId: "model" }] } } },
  extensionPaths: withExtension ? undefined : [],
  ui: false,
});
(globalThis as { gc?: () => void }).gc?.();
await new Promise((resolve) => setTimeout(resolve, 100));
(globalThis as { gc?: () => void }).gc?.();
const { rss, heapUsed } = process.memoryUsage();
await harness.dispose();
console.log(`${rss} ${heapUsed}`);
