// The routes file a newcomer writes first is the README's example, pasted as written into
// <agentDir>/extensions/auto-router.routes.json: through the real pi CLI it must load and serve (a `//` note in it
// once made pi fail with "not valid JSON"). Its `ollama` target is a provider of models.json, here an emulator; the
// subscription targets before it have no credentials in the temp agent dir and are skipped.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { makeAgentDir, REPO_ROOT, ROUTES_FILE_NAME } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

let emulator: Emulator;
const cleanups: Array<() => void> = [];
before(async () => {
  emulator = await startOpenAIEmulator({ name: "ollama" });
});
after(async () => {
  await emulator.close();
  for (const cleanup of cleanups) cleanup();
});

/** The first JSON block after the README says where the routes file lives, as written. */
function readmeRoutesExample(): string {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const from = readme.indexOf("Your own routes live in");
  const match = /\n```json\n([\s\S]*?)\n```\n/.exec(readme.slice(from));
  assert.ok(from >= 0 && match, "the README's routes file example");
  return match[1]!;
}

it("serves a prompt with the README's routes example pasted as the routes file", async () => {
  const dir = makeAgentDir({
    providers: {
      ollama: { baseUrl: emulator.url, api: "openai-completions", apiKey: "ollama", models: [{ id: "qwen3-coder" }] },
    },
  });
  cleanups.push(dir.cleanup);
  mkdirSync(join(dir.agentDir, "extensions"), { recursive: true });
  writeFileSync(join(dir.agentDir, "extensions", ROUTES_FILE_NAME), readmeRoutesExample());
  emulator.enqueue({ text: "Hello from the local model." });
  const run = await runPi({
    agentDir: dir.agentDir,
    args: ["--model", "auto-router/my-coding", "-p", "hello there"],
    // The subscription targets must have no credentials here, whatever this machine has set.
    env: { ANTHROPIC_API_KEY: "", ANTHROPIC_OAUTH_TOKEN: "", OPENAI_API_KEY: "" },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "Hello from the local model.");
  assert.doesNotMatch(run.stderr, /not valid JSON|is invalid/, run.stderr);
});
