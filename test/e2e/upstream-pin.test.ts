// Pinning OpenRouter's upstream for the session, through pi in RPC mode (one process, one session at a time) against
// an OpenRouter emulator: the first answer is looked up with the target's own key, later attempts carry
// provider.order + allow_fallbacks:false, a new session starts unpinned, and a failing pinned upstream is a pin break
// that the router's own failover gets past.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { startOpenRouterEmulator, type OpenRouterEmulator } from "../helpers/openrouter-emulator.ts";
import { startRpc, type RpcClient } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { eventually } from "../helpers/temp-and-workers.ts";
import { readEventLogFile } from "../helpers/event-log.ts";

const OPENROUTER_KEY = "sk-or-v1-pin-test-key-0123456789";
/** The OpenRouter emulator as pi's `openrouter` provider in models.json. */
const openRouterProvider = (openrouter: OpenRouterEmulator) => ({
  baseUrl: openrouter.url,
  api: "openai-completions" as const,
  apiKey: OPENROUTER_KEY,
  models: [{ id: "moonshotai/kimi-k2" }],
});

describe("OpenRouter upstream pinned for the session (pi RPC)", () => {
  let openrouter: OpenRouterEmulator;
  let spare: Emulator;
  let dir: ReturnType<typeof makeAgentDir>;
  let rpc: RpcClient;
  let logFile: string;

  before(async () => {
    openrouter = await startOpenRouterEmulator();
    spare = await startOpenAIEmulator({ name: "spare" });
    dir = makeAgentDir({
      providers: {
        openrouter: openRouterProvider(openrouter),
        "mock-spare": {
          baseUrl: spare.url,
          api: "openai-completions",
          apiKey: "sk-spare-key",
          models: [{ id: "spare" }],
        },
      },
      routes: {
        breaker: { enabled: false },
        routes: {
          agg: {
            sortBy: "config",
            targets: [
              { provider: "openrouter", modelId: "moonshotai/kimi-k2", body: { metadata: { team: "core" } } },
              { provider: "mock-spare", modelId: "spare" },
            ],
          },
        },
      },
    });
    logFile = join(dir.agentDir, "extensions", "auto-router.events.jsonl");
    rpc = await startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/agg"] });
  });
  after(async () => {
    await rpc?.close();
    await Promise.all([openrouter.close(), spare.close()]);
    dir.cleanup();
  });

  const events = () => readEventLogFile(logFile);
  /** The log is appended in the background: wait for the final event of the n-th request. */
  const finalNumber = async (n: number) => {
    await eventually(() => events().filter((event) => event.type === "final").length >= n, `final event ${n}`);
    return events().filter((event) => event.type === "final")[n - 1];
  };
  const prompt = async (message: string) => {
    await rpc.request({ type: "prompt", message });
    await rpc.waitFor((line) => line.type === "agent_end", 60_000);
  };
  const lastChatBody = () => openrouter.chat.calls.at(-1)?.body;

  it("looks the first answer's upstream up with the target's own key and pins the next prompts to it", async () => {
    openrouter.notFiledFor(1); // the stats are not filed at once: the router asks again
    await prompt("first");
    assert.equal(openrouter.chat.calls.length, 1);
    assert.equal(lastChatBody().provider, undefined, "the first prompt goes out unpinned");
    await eventually(() => events().some((event) => event.type === "pin"), "the pin event");
    assert.equal(openrouter.lookups.length, 2);
    assert.equal(openrouter.lookups[1]!.id, "chatcmpl-emu-1");
    assert.equal(openrouter.lookups[1]!.authorization, `Bearer ${OPENROUTER_KEY}`);
    const pinned = events().find((event) => event.type === "pin");
    assert.deepEqual(pinned.data, { action: "pinned", target: "openrouter/moonshotai/kimi-k2", upstream: "Anthropic" });
    assert.ok(!JSON.stringify(events()).includes(OPENROUTER_KEY), "the key never reaches the event log");

    await prompt("second");
    assert.deepEqual(lastChatBody().provider, { order: ["Anthropic"], allow_fallbacks: false });
    assert.deepEqual(lastChatBody().metadata, { team: "core" }, "the target's own body patch still applies");
    const final = await finalNumber(2);
    assert.deepEqual(final.data.notes, ["upstream pinned: openrouter/moonshotai/kimi-k2 -> Anthropic"]);
    assert.equal(openrouter.lookups.length, 2, "a pinned target is not looked up again");
  });

  it("starts a new session unpinned and pins it to whichever upstream serves it first", async () => {
    const switched = await rpc.request({ type: "new_session" });
    assert.equal(switched.success, true);
    openrouter.setUpstream("Google Vertex");
    await prompt("third, new session");
    assert.equal(lastChatBody().provider, undefined);
    await eventually(() => events().filter((event) => event.type === "pin").length === 2, "the new session's pin");
    await prompt("fourth");
    assert.deepEqual(lastChatBody().provider, { order: ["Google Vertex"], allow_fallbacks: false });
  });

  it("logs a pin break when the pinned upstream fails and the next target serves", async () => {
    openrouter.chat.enqueue({
      status: 503,
      errorMessage: "No endpoints found that can handle the requested parameters",
    });
    spare.enqueue({ text: "Spare took over." });
    await prompt("fifth");
    assert.equal(spare.calls.length, 1);
    assert.deepEqual(
      lastChatBody().provider,
      { order: ["Google Vertex"], allow_fallbacks: false },
      "the failed attempt was the pinned one",
    );
    const final = await finalNumber(5);
    const broken = events()
      .filter((event) => event.type === "pin")
      .at(-1);
    assert.deepEqual(broken.data, {
      action: "broken",
      target: "openrouter/moonshotai/kimi-k2",
      upstream: "Google Vertex",
      reason: "server",
    });
    assert.equal(final.data.servedTarget, "mock-spare/spare");
    assert.ok(
      final.data.notes.some((note: string) =>
        /^pin break: openrouter\/moonshotai\/kimi-k2 was pinned to Google Vertex, which failed \(server\)/.test(note),
      ),
      final.data.notes.join("; "),
    );
  });
});

describe("OpenRouter upstream pin turned off for one route (failover.pinUpstream: false, pi RPC)", () => {
  let openrouter: OpenRouterEmulator;
  let dir: ReturnType<typeof makeAgentDir>;
  let rpc: RpcClient;

  before(async () => {
    openrouter = await startOpenRouterEmulator();
    const target = { provider: "openrouter", modelId: "moonshotai/kimi-k2" };
    dir = makeAgentDir({
      providers: {
        openrouter: openRouterProvider(openrouter),
      },
      routes: {
        breaker: { enabled: false },
        routes: { plain: { failover: { pinUpstream: false }, targets: [target] }, pinned: { targets: [target] } },
      },
    });
    rpc = await startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/plain"] });
  });
  after(async () => {
    await rpc?.close();
    await openrouter.close();
    dir.cleanup();
  });

  const prompt = async (route: string, message: string) => {
    const switched = await rpc.request({ type: "set_model", provider: "auto-router", modelId: route });
    assert.equal(switched.success, true);
    await rpc.request({ type: "prompt", message });
    await rpc.waitFor((line) => line.type === "agent_end", 60_000);
  };
  const pinEvents = () =>
    readEventLogFile(join(dir.agentDir, "extensions", "auto-router.events.jsonl")).filter((e) => e.type === "pin");

  it("neither looks up nor applies a pin on that route, while the route with the default pins the same target", async () => {
    await prompt("plain", "first");
    // The other route's answer is looked up on the same schedule, started later: once its pin is there, a lookup of
    // the first answer would have been made before it.
    await prompt("pinned", "second");
    await eventually(() => pinEvents().length === 1, "the pin of the route with the default");
    assert.deepEqual(
      openrouter.lookups.map((lookup) => lookup.id),
      ["chatcmpl-emu-2"],
      "only the second answer was looked up",
    );
    await prompt("plain", "third");
    await prompt("pinned", "fourth");
    const providers = openrouter.chat.calls.map((call) => call.body.provider);
    assert.deepEqual(providers, [
      undefined,
      undefined,
      undefined, // the target is pinned in this session, but this route does not pin
      { order: ["Anthropic"], allow_fallbacks: false },
    ]);
  });
});
