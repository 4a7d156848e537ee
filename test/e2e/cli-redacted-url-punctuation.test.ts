// The real pi CLI against the HTTP emulators: a provider's 401 ends in a URL with the key in its query. The router's
// warning quotes it in brackets (`rejected its credentials (...); it rests for 30 min.`): it shows the key replaced,
// and the bracket and semicolon after the URL.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type EmulatedAgent, startEmulatedAgent, TWO_OPENAI_PROVIDERS } from "../helpers/emulated-agent.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const target = (key: string) => ({ provider: key.split("/")[0], modelId: key.split("/")[1] });

describe("pi CLI: a 401 that ends in a URL with the key in its query", () => {
  // Shapes no provider pattern knows: only the query parameter's name says they are secrets.
  const KEY = randomBytes(12).toString("hex");
  const TOKEN = randomBytes(12).toString("hex");
  let a: Emulator;
  let b: Emulator;
  let dir: EmulatedAgent<"A" | "B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: { ...TWO_OPENAI_PROVIDERS, "mock-a": { ...TWO_OPENAI_PROVIDERS["mock-a"], apiKey: KEY } },
      routes: {
        routes: { pair: { sortBy: "config", targets: [target("mock-a/model-a"), target("mock-b/model-b")] } },
      },
    });
    ({ A: a, B: b } = dir.emulators);
  });
  after(() => dir?.stop());

  it("keeps the bracket and semicolon after the redacted value in pi's warning", async () => {
    a.enqueue({
      status: 401,
      errorMessage: `Invalid credentials, see https://h.example/x?api_key=${KEY}&token=${TOKEN}`,
    });
    b.enqueue({ text: "B served." });
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/pair", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /see https:\/\/h\.example\/x\?api_key=\[REDACTED\]&token=\[REDACTED\]\); it rests for \d+ min\./,
    );
    assert.equal(run.stderr.includes(KEY) || run.stdout.includes(KEY), false, "the key is not in pi's output");
    assert.equal(run.stderr.includes(TOKEN) || run.stdout.includes(TOKEN), false, "the token is not in pi's output");
  });
});
