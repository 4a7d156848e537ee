// A target's extra body fields named as credentials (`api_key_field`, a nested `auth.token`), through the real pi CLI:
// `/auto-router debug` shows their names, never their values, and a provider that quotes them back in an error
// reaches neither pi's output nor the event log.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

// Shapes no key pattern knows, built at run time so no key-shaped literal sits in the repository.
const FIELD_SECRET = ["bodyTESTSECRET", "0123456789", "abcdef"].join("");
const NESTED_SECRET = ["nestedTESTSECRET", "9876543210", "fedcba"].join("");

describe("a target's credential body fields through the pi CLI", () => {
  let emulator: Emulator;
  let agent: ReturnType<typeof makeAgentDir>;

  before(async () => {
    emulator = await startOpenAIEmulator({ name: "A" });
    agent = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: emulator.url,
          api: "openai-completions",
          apiKey: "sk-debug-body-a",
          models: [{ id: "model-a", contextWindow: 128_000, maxTokens: 4_096 }],
        },
      },
      routes: {
        routes: {
          main: {
            sortBy: "config",
            targets: [
              {
                provider: "mock-a",
                modelId: "model-a",
                body: {
                  api_key_field: FIELD_SECRET,
                  extra: { auth: { token: NESTED_SECRET }, team: "platform" },
                  max_tokens: 1_000,
                },
              },
            ],
          },
        },
      },
    });
  });
  after(async () => {
    await emulator?.close();
    agent?.cleanup();
  });

  it("shows the body's field names in /auto-router debug and masks the values of credential ones", async () => {
    const run = await runPi({
      agentDir: agent.agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router debug"],
    });
    assert.equal(run.code, 0, run.stderr);
    const report = readFileSync(join(agent.agentDir, "extensions", "auto-router.debug-report.txt"), "utf8");
    for (const text of [run.stdout + run.stderr, report]) {
      assert.ok(!text.includes(FIELD_SECRET) && !text.includes(NESTED_SECRET), text);
      assert.ok(text.includes('"api_key_field":"[REDACTED]"'), text);
      assert.ok(text.includes('"extra":{"auth":{"token":"[REDACTED]"},"team":"platform"},"max_tokens":1000'), text);
    }
  });

  it("redacts a credential body field a provider quotes back in its error, in pi's output and the event log", async () => {
    emulator.enqueue({
      status: 400,
      errorMessage: `Unrecognized request argument supplied: {"api_key_field":"${FIELD_SECRET}","extra":{"auth":{"token":"${NESTED_SECRET}"}}}`,
    });
    const run = await runPi({ agentDir: agent.agentDir, args: ["--model", "auto-router/main", "-p", "Say hi"] });
    assert.equal(run.code, 1, run.stdout);
    assert.equal(emulator.calls.at(-1)!.body.api_key_field, FIELD_SECRET, "the target got the field");
    assert.match(run.stderr, /Unrecognized request argument supplied/);
    const state = join(agent.agentDir, "extensions");
    const logs = readdirSync(state)
      .filter((name) => name.startsWith("auto-router.events"))
      .map((name) => readFileSync(join(state, name), "utf8"))
      .join("\n");
    assert.match(logs, /Unrecognized request argument supplied/);
    for (const text of [run.stdout, run.stderr, logs]) {
      assert.ok(!text.includes(FIELD_SECRET) && !text.includes(NESTED_SECRET), text);
    }
    assert.match(run.stderr, /\[REDACTED\]/);
  });
});
