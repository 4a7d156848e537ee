// pi's own session on an OpenAI Responses provider whose account changes between two turns (a new key of another
// organisation, or the provider moved to another account's endpoint): pi-ai replays the first turn's reasoning item
// with its encrypted_content to the same provider, and the new account refuses it with a 400
// `invalid_encrypted_content`. The router tries the target again at once without the replayed reasoning, so the
// conversation goes on. The real pi CLI against local emulators of two accounts.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { routeInOrder } from "../helpers/agent-dir.ts";
import { type EmulatedAgent, startEmulatedAgent } from "../helpers/emulated-agent.ts";
import { readLoggedEvents, until } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { runPi } from "../helpers/pi-cli.ts";

const ENCRYPTED_BY_OLD = "gAAAAABo-reasoning-state-only-the-old-account-can-read==";
const REASONING_ID = "rs_0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978";
const TARGET = "openai-work/gpt-test";

describe("pi on a Responses provider whose account changed between turns", () => {
  let dir: EmulatedAgent<"OLD" | "NEW">;
  let sessions: string;
  let home: string;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { OLD: "responses-account", NEW: "responses-account" },
      providers: {
        "openai-work": { emulator: "OLD", apiKey: "sk-work-0000000001", models: [{ id: "gpt-test", reasoning: true }] },
      },
      routes: { routes: { work: routeInOrder(TARGET) } },
    });
    sessions = freshDir("auto-router-sessions");
    home = freshDir("auto-router-home");
  });
  after(async () => {
    await dir?.stop();
    rmSync(sessions, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("answers the next turn from the new account without the old account's reasoning", async () => {
    const { OLD, NEW } = dir.emulators;
    OLD.enqueue({
      thinking: "Greet back.",
      reasoningItem: { id: REASONING_ID, encryptedContent: ENCRYPTED_BY_OLD },
      text: "Hello from the old account.",
    });
    const run = (args: string[]) =>
      runPi({
        agentDir: dir.agentDir,
        sessionDir: sessions,
        env: { HOME: home },
        args: [...args, "--thinking", "low"],
      });
    const first = await run(["--model", "auto-router/work", "-p", "first"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), "Hello from the old account.");

    // The provider now points at another account (its own endpoint and key).
    const modelsFile = join(dir.agentDir, "models.json");
    const models = JSON.parse(readFileSync(modelsFile, "utf8"));
    models.providers["openai-work"].baseUrl = NEW.url;
    models.providers["openai-work"].apiKey = "sk-work-0000000002";
    writeFileSync(modelsFile, JSON.stringify(models, null, 2));

    NEW.enqueue({ text: "Hello from the new account." });
    const second = await run(["--continue", "-p", "second"]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), "Hello from the new account.");
    assert.equal(NEW.calls.length, 2, "refused once, then tried again");
    const replayed = NEW.calls[0]!.body.input.find((item: { type?: string }) => item.type === "reasoning");
    assert.equal(replayed?.encrypted_content, ENCRYPTED_BY_OLD, "pi-ai replayed the old account's reasoning");
    const retried = NEW.calls[1]!;
    assert.equal(retried.rawBody.includes(ENCRYPTED_BY_OLD), false);
    assert.equal(retried.rawBody.includes(REASONING_ID), false);
    assert.match(retried.rawBody, /Hello from the old account\./, "the conversation itself goes on");

    const finals = () => readLoggedEvents(dir.agentDir).filter((event) => event.type === "final");
    await until(() => finals().length === 2, "two final events");
    const final = finals()[1]!;
    assert.equal(final.data.outcome, "success");
    assert.ok(
      final.data.notes?.some((note: string) => note.startsWith(`retried ${TARGET} without the replayed reasoning`)),
      JSON.stringify(final.data.notes),
    );
    const log = readFileSync(join(dir.agentDir, "extensions", "auto-router.events.jsonl"), "utf8");
    assert.equal(log.includes(ENCRYPTED_BY_OLD), false);
  });
});
