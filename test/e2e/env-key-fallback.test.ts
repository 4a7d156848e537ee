// Keys under the earlier pi-auto-router's environment names, through the real pi CLI against local emulators:
// GOOGLE_API_KEY / GOOGLE_KEY for Gemini routes and DEEPSEEK_API_KEY / DEEPSEEK_KEY for DeepSeek balances, only when
// pi itself has no credential for the provider, and never written to the event log.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, OPENAI_EMULATOR_COMPAT } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const GOOGLE_FALLBACK = "AIza-fallback-from-GOOGLE_KEY-0123456789";
const GEMINI_OWN = "AIza-pi-own-GEMINI_API_KEY-9876543210";
const DEEPSEEK_FALLBACK = "sk-deepseek-fallback-DEEPSEEK_KEY-4242";
// pi's own env names must not leak in from the machine running the tests.
const CLEAN = { GEMINI_API_KEY: "", GOOGLE_API_KEY: "", GOOGLE_KEY: "", DEEPSEEK_API_KEY: "", DEEPSEEK_KEY: "" };

describe("API keys from the earlier pi-auto-router's environment names", () => {
  let gemini: Emulator;
  let balanceServer: Server;
  const balanceAuthorizations: string[] = [];
  let dir: ReturnType<typeof makeAgentDir>;

  before(async () => {
    gemini = await startOpenAIEmulator({ name: "G" });
    balanceServer = createServer((request, response) => {
      balanceAuthorizations.push(String(request.headers.authorization));
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ is_available: true, balance_infos: [{ currency: "USD", total_balance: "7.25" }] }));
    });
    await new Promise<void>((resolve) => balanceServer.listen(0, "127.0.0.1", resolve));
    const balanceEndpoint = `http://127.0.0.1:${(balanceServer.address() as AddressInfo).port}/user/balance`;
    dir = makeAgentDir({
      routes: {
        routes: {
          gemini: { targets: [{ provider: "google", modelId: "gemini-emulated" }] },
          cheap: { targets: [{ provider: "deepseek", modelId: "deepseek-emulated", balanceEndpoint }] },
        },
        budgets: { providers: { deepseek: { balanceFloor: 1 } } },
      },
    });
    // pi's built-in providers pointed at the emulator, WITHOUT an apiKey: pi's own credential lookup finds none.
    writeFileSync(
      join(dir.agentDir, "models.json"),
      JSON.stringify({
        providers: {
          google: {
            baseUrl: gemini.url,
            api: "openai-completions",
            compat: OPENAI_EMULATOR_COMPAT,
            models: [{ id: "gemini-emulated" }],
          },
          deepseek: {
            baseUrl: gemini.url,
            api: "openai-completions",
            compat: OPENAI_EMULATOR_COMPAT,
            models: [{ id: "deepseek-emulated" }],
          },
        },
      }),
    );
  });
  after(async () => {
    await gemini.close();
    await new Promise<void>((resolve) => balanceServer.close(() => resolve()));
    dir.cleanup();
  });

  it("calls a Gemini route with GOOGLE_KEY when pi has no Gemini credential", async () => {
    gemini.reset();
    gemini.enqueue({ text: "Hello from Gemini." });
    const run = await runPi({
      agentDir: dir.agentDir,
      env: { ...CLEAN, GOOGLE_KEY: GOOGLE_FALLBACK, AUTO_ROUTER_LOG_DIR: dir.agentDir },
      args: ["--model", "auto-router/gemini", "-p", "Hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Hello from Gemini.");
    assert.equal(gemini.calls[0]!.headers.authorization, `Bearer ${GOOGLE_FALLBACK}`);
    const log = readFileSync(join(dir.agentDir, "auto-router.events.jsonl"), "utf8");
    assert.ok(log.includes("gemini-emulated"), "the request was logged");
    assert.ok(!log.includes(GOOGLE_FALLBACK), "the key never reaches the event log");
    assert.ok(!run.stderr.includes(GOOGLE_FALLBACK) && !run.stdout.includes(GOOGLE_FALLBACK));
  });

  it("prefers GOOGLE_API_KEY over GOOGLE_KEY, and pi's own GEMINI_API_KEY over both", async () => {
    gemini.reset();
    gemini.enqueue({ text: "one" });
    gemini.enqueue({ text: "two" });
    const first = await runPi({
      agentDir: dir.agentDir,
      env: { ...CLEAN, GOOGLE_API_KEY: "AIza-google-api-key", GOOGLE_KEY: GOOGLE_FALLBACK },
      args: ["--model", "auto-router/gemini", "-p", "Hi"],
    });
    assert.equal(first.code, 0, first.stderr);
    const second = await runPi({
      agentDir: dir.agentDir,
      env: { ...CLEAN, GEMINI_API_KEY: GEMINI_OWN, GOOGLE_API_KEY: "AIza-google-api-key" },
      args: ["--model", "auto-router/gemini", "-p", "Hi"],
    });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(
      gemini.calls.map((call) => call.headers.authorization),
      ["Bearer AIza-google-api-key", `Bearer ${GEMINI_OWN}`],
    );
  });

  it("skips the Gemini route's target as without credentials when no name is set", async () => {
    gemini.reset();
    const run = await runPi({
      agentDir: dir.agentDir,
      env: CLEAN,
      args: ["--model", "auto-router/gemini", "-p", "Hi"],
    });
    assert.equal(gemini.calls.length, 0);
    assert.match(run.stdout + run.stderr, /no credentials/);
  });

  it("fetches a DeepSeek balance with DEEPSEEK_KEY when pi has no DeepSeek credential", async () => {
    balanceAuthorizations.length = 0;
    const run = await runPi({
      agentDir: dir.agentDir,
      env: { ...CLEAN, DEEPSEEK_KEY: DEEPSEEK_FALLBACK },
      args: ["--model", "auto-router/cheap", "-p", "/auto-router balance fetch"],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /deepseek\s+\$7\.25/);
    assert.ok(balanceAuthorizations.includes(`Bearer ${DEEPSEEK_FALLBACK}`), balanceAuthorizations.join(","));
    assert.ok(!(run.stdout + run.stderr).includes(DEEPSEEK_FALLBACK));
  });
});
