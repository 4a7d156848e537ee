// `pi --list-models auto-router` runs no session, so pi's registry never reaches the extension: the routes'
// context window and output limit come from pi's built-in catalogue at load time, and a misspelled provider is
// reported on stderr with the closest known id.
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { runPi } from "../helpers/pi-cli.ts";

const dir = makeAgentDir({
  routes: {
    routes: {
      long: {
        targets: [
          { provider: "anthropic", modelId: "claude-opus-4-6" },
          { provider: "anthropic", modelId: "claude-sonnet-4-6" },
        ],
      },
      typo: {
        targets: [
          { provider: "anthropc", modelId: "claude-opus-4-6" },
          { provider: "anthropic", modelId: "claude-opus-4-6" },
        ],
      },
    },
  },
});
after(() => dir.cleanup());

it("lists each route with the smallest context window and output limit of its targets from pi's catalogue", async () => {
  const run = await runPi({ agentDir: dir.agentDir, args: ["--list-models", "auto-router"] });
  assert.equal(run.code, 0, run.stderr);
  // 0.73.1 prints the table on stderr, newer pi on stdout. Columns: provider, model, context, max-out, ...
  const rows = (run.stdout + run.stderr)
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([provider]) => provider === "auto-router");
  assert.deepEqual(rows.map((row) => row.slice(1, 4)).sort(), [
    ["long", "1M", "64K"],
    ["typo", "1M", "128K"],
  ]);
  const warnings = run.stderr.split("\n").filter((line) => line.includes("is not known to pi"));
  assert.deepEqual(warnings, [
    `auto-router: warning: ${dir.agentDir}/extensions/auto-router.routes.json:17:9 at routes.typo.targets[0]: provider 'anthropc' is not known to pi; did you mean 'anthropic'?`,
  ]);
});
