// The interactive pi TUI, driven through tmux as a person would: an isolated agent dir with two emulated providers,
// an auto-router model chosen in /model, a prompt that fails over, the status line naming the serving target,
// `/auto-router list` output, and the completion list of `/auto-router sh`. Waits poll the screen (capture-pane)
// with a bounded deadline; nothing sleeps a fixed time for pi to be ready.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { basePiArgs, piCommand } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const HAS_TMUX = spawnSync("tmux", ["-V"]).status === 0;
const SCREEN_COLUMNS = 120;
const SCREEN_ROWS = 40;
const POLL_INTERVAL_MS = 100;
const SCREEN_TIMEOUT_MS = 20_000;
/** A key press the TUI may take for its completion popup instead of the editor is repeated after this long. */
const RETRY_KEY_AFTER_MS = 2_000;
// A private tmux server (its own socket in a temp dir): the test never touches a tmux session of the person running it.
let socketDir = "";
const SESSION = "pi";

const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
const tmux = (...args: string[]) =>
  execFileSync("tmux", ["-S", join(socketDir, "tmux.sock"), ...args], { encoding: "utf8" });
const screen = () => tmux("capture-pane", "-p", "-t", SESSION);
const type = (text: string) => void tmux("send-keys", "-t", SESSION, "-l", text);
const press = (key: string) => void tmux("send-keys", "-t", SESSION, key);

/** Polls the screen until `pattern` shows; `retry` (a key press) is repeated every RETRY_KEY_AFTER_MS meanwhile. */
async function waitForScreen(
  pattern: RegExp,
  options: { retry?: () => void; timeoutMs?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? SCREEN_TIMEOUT_MS);
  let nextRetry = Date.now() + RETRY_KEY_AFTER_MS;
  let text = "";
  while (Date.now() < deadline) {
    text = screen();
    if (pattern.test(text)) return text;
    if (options.retry && Date.now() >= nextRetry) {
      options.retry();
      nextRetry = Date.now() + RETRY_KEY_AFTER_MS;
    }
    await delay(POLL_INTERVAL_MS);
  }
  throw new Error(`timed out waiting for ${pattern} on the pi screen:\n${text}`);
}

const PANE_EXIT_WAIT_MS = 10_000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("pi TUI with auto-router (tmux)", {
  skip: HAS_TMUX ? false : "tmux is not installed (.ci/run installs it)",
}, () => {
  let first: Emulator;
  let second: Emulator;
  let dir: ReturnType<typeof makeAgentDir>;

  before(async () => {
    socketDir = mkdtempSync(join(tmpdir(), "auto-router-tui-"));
    first = await startOpenAIEmulator({ name: "A" });
    second = await startOpenAIEmulator({ name: "B" });
    dir = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: first.url,
          api: "openai-completions",
          apiKey: "sk-mock-a-key",
          models: [{ id: "model-a" }],
        },
        "mock-b": {
          baseUrl: second.url,
          api: "openai-completions",
          apiKey: "sk-mock-b-key",
          models: [{ id: "model-b" }],
        },
      },
      routes: {
        routes: {
          chain: {
            name: "Chain",
            sortBy: "config",
            targets: [
              { provider: "mock-a", modelId: "model-a" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
          // More routes than pi shows of a 10-line string[] widget: `list` must still show the last one.
          ...Object.fromEntries(
            ["second", "third", "fourth", "last-route"].map((id) => [
              id,
              { targets: [{ provider: "mock-b", modelId: "model-b" }] },
            ]),
          ),
        },
      },
    });
    const { node, cli } = piCommand();
    const environment = {
      PI_CODING_AGENT_DIR: dir.agentDir,
      PI_OFFLINE: "1",
      PI_TELEMETRY: "0",
      PI_SKIP_VERSION_CHECK: "1",
    };
    const command = [
      "env",
      "-u",
      "AUTO_ROUTER_LOG_DIR",
      ...Object.entries(environment).map(([key, value]) => `${key}=${value}`),
      node,
      cli,
      ...basePiArgs(undefined),
    ]
      .map(quote)
      .join(" ");
    tmux(
      "new-session",
      "-d",
      "-s",
      SESSION,
      "-x",
      String(SCREEN_COLUMNS),
      "-y",
      String(SCREEN_ROWS),
      "-c",
      dir.agentDir,
      command,
    );
  });
  after(async () => {
    if (socketDir) {
      // pi writes its state and event log as it exits on the hang-up: wait for it before removing its directory.
      const pid = Number(
        spawnSync("tmux", ["-S", join(socketDir, "tmux.sock"), "list-panes", "-F", "#{pane_pid}"], {
          encoding: "utf8",
        }).stdout.trim(),
      );
      spawnSync("tmux", ["-S", join(socketDir, "tmux.sock"), "kill-server"]);
      for (let waited = 0; pid > 0 && isRunning(pid) && waited < PANE_EXIT_WAIT_MS; waited += POLL_INTERVAL_MS)
        await delay(POLL_INTERVAL_MS);
      rmSync(socketDir, { recursive: true, force: true });
    }
    await Promise.all([first?.close(), second?.close()]);
    dir?.cleanup();
  });

  it("selects an auto-router model in /model, fails over, and shows the answer and the serving target in the status line", async () => {
    await waitForScreen(/\(mock-[ab]\) model-[ab]/); // the footer: pi is up with a default model
    type("/model");
    press("Enter");
    // Enter may first be taken by the command completion popup; press it again while the editor still holds /model.
    await waitForScreen(/\[auto-router\]/, { retry: () => /^\/model\s*$/m.test(screen()) && press("Enter") });
    type("chain");
    await waitForScreen(/→ chain \[auto-router\]/);
    press("Enter");
    const selected = await waitForScreen(/\(auto-router\) chain/);
    assert.match(selected, /⇄ auto-router/, "the status line appears once an auto-router model is active");

    first.enqueue({ status: 429, errorMessage: "Rate limit reached. Please try again in 60s.", retryAfterSeconds: 60 });
    second.enqueue({ text: "Hello from B." });
    type("Say hi");
    press("Enter");
    const answered = await waitForScreen(/⇄ chain .*→ mock-b\/model-b \(1 failover\)/);
    assert.match(answered, /^ Hello from B\.$/m);
    const statusLine = answered.split("\n").find((line) => line.startsWith("⇄ "))!;
    assert.ok(statusLine.trimEnd().length <= 80, statusLine);
    assert.equal(first.calls.length, 1);
    assert.equal(second.calls.length, 1);
  });

  it("prints /auto-router list in the TUI with the cooldown of the target that failed", async () => {
    type("/auto-router list");
    press("Enter");
    const listed = await waitForScreen(/mock-a\/model-a\s+API key\s+cooldown \d+s \(rate_limit\)/, {
      retry: () => /^\/auto-router list\s*$/m.test(screen()) && press("Enter"),
    });
    assert.match(listed, /auto-router\/chain — Chain \(sortBy config\)/);
    assert.match(listed, /2\s+model-b\s+mock-b\/model-b\s+API key\s+ready/);
    await waitForScreen(/auto-router\/last-route/);
    assert.doesNotMatch(screen(), /widget truncated/);
  });

  it("shows every /auto-router help line, down to the last subcommand", async () => {
    type("/auto-router help");
    press("Enter");
    const shown = await waitForScreen(/^\s+shadow .*Shadow mode/m, {
      retry: () => /^\/auto-router help\s*$/m.test(screen()) && press("Enter"),
    });
    assert.match(shown, /^\s+rate /m);
    assert.doesNotMatch(shown, /widget truncated/);
  });

  it("marks a typed shortcut as @tier and a tier guessed from the prompt's intent differently", async () => {
    type("/auto-router clear"); // the help listing above fills the screen; the answers must be visible
    press("Enter");
    await waitForScreen(/^(?![\s\S]*Shadow mode: route in declared order)/, {
      retry: () => /^\/auto-router clear\s*$/m.test(screen()) && press("Enter"),
    });
    second.enqueue({ text: "Fast answer." });
    type("@fast Say hi again");
    press("Enter");
    const typed = await waitForScreen(/^ Fast answer\.$/m);
    assert.match(typed.split("\n").find((line) => line.startsWith("⇄ "))!, / · @fast/);
    second.enqueue({ text: "Fixed it." });
    type("Fix the bug in this TypeScript function and refactor the code");
    press("Enter");
    const guessed = await waitForScreen(/^ Fixed it\.$/m);
    const statusLine = guessed.split("\n").find((line) => line.startsWith("⇄ "))!;
    assert.match(statusLine, /tier swe \(intent\)/);
    assert.doesNotMatch(statusLine, /@swe/);
  });

  it("offers show, shortcuts and shadow as completions of /auto-router sh, and Tab takes the first", async () => {
    type("/auto-router sh");
    const offered = await waitForScreen(/shadow\s+Shadow mode/, { retry: () => press("Tab") });
    assert.match(offered, /show\s+One route in detail/);
    assert.match(offered, /shortcuts\s+The @shortcuts a prompt may start with/);
    press("Tab");
    await waitForScreen(/^\/auto-router show\s*$/m);
  });
});
