// One process's RSS once pi's SDK session is up, without or with the extension (argv[2]: "without" | "with").
// Run by product-cost.bench.ts in fresh processes, so nothing else loaded in the bench skews the figure.
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
const rss = process.memoryUsage().rss;
await harness.dispose();
console.log(rss);
