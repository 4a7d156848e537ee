// One pi line's per-request cost, in a child process of `npm run bench` (bench/pi-lines.ts): run by that line's Node
// with PI_SDK naming its SDK, so the SDK harness, pi-ai and the faux targets are that line's. Prints the section's
// lines, then one `FIGURES <json>` line for the summary: the pi line and Node it ran on, and its figures.
import { hostDescription } from "./extension-harness.ts";
import { runProductCostBench } from "./product-cost.bench.ts";

const result = await runProductCostBench({ variants: ["shipped"] });
for (const line of result.lines) console.log(line);
console.log(`FIGURES ${JSON.stringify({ host: hostDescription(), figures: result.figures })}`);
