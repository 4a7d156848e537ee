// The spend ledger cut short while two pi windows (pi --mode rpc processes) share one agent dir. The window that finds
// the file damaged rewrites it from its own last view; the other window's spend written after that view was read
// must come back when that window reads the rewritten file (before: 12 answers, 9 counted). The windows are held
// with SIGSTOP so which one repairs, and what each has read by then, is fixed without waiting on a clock.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { parseLedger, providerSpend } from "../../src/budget/usage-ledger.ts";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { until } from "../helpers/event-log.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { type RpcClient, startRpc } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const ANSWERS_PER_TURN = 3;

/** The pi process this test started in `cwd` (each window gets a working directory of its own to tell them apart). */
function childIn(cwd: string): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parent = Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      if (parent === process.pid && readlinkSync(`/proc/${entry}/cwd`) === cwd) return Number(entry);
    } catch {
      // a process that ended meanwhile
    }
  }
  throw new Error(`no pi process of this test runs in ${cwd}`);
}

async function answer(window: RpcClient, times: number): Promise<void> {
  for (let index = 0; index < times; index++) {
    await window.request({ type: "prompt", message: `question ${index + 1}` });
    await window.waitFor((line) => line.type === "agent_end");
  }
}

describe("the spend ledger cut short under two pi windows", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startOpenAIEmulator({ name: "A" });
  });
  after(async () => {
    await emulator.close();
  });

  it("counts every answer of both windows when the window that repairs the file had not read the other's spend", async () => {
    const dir = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: emulator.url,
          api: "openai-completions",
          apiKey: "sk-mock-a-key",
          models: [{ id: "model-a", cost: { input: 1000, output: 2000, cacheRead: 0, cacheWrite: 0 } }],
        },
      },
      routes: { routes: { main: { targets: [{ provider: "mock-a", modelId: "model-a" }] } } },
    });
    const extensions = join(dir.agentDir, "extensions");
    const ledgerFile = join(extensions, "auto-router.usage.json");
    const counted = (): number | undefined => {
      try {
        const ledger = parseLedger(JSON.parse(readFileSync(ledgerFile, "utf8")));
        return providerSpend(ledger, calendarKeys(Date.now(), ledger.timeZone), "mock-a").day.requests;
      } catch {
        return undefined; // cut short, or not written yet
      }
    };
    const windows: RpcClient[] = [];
    const stopped = new Set<number>();
    // Held only between two uses of the ledger's lock (proper-lockfile's `<file>.lock`), so the other window's
    // writes never wait for a stopped process.
    const pause = async (pid: number) => {
      for (;;) {
        process.kill(pid, "SIGSTOP");
        stopped.add(pid);
        if (!existsSync(`${ledgerFile}.lock`)) return;
        resume(pid);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const resume = (pid: number) => {
      process.kill(pid, "SIGCONT");
      stopped.delete(pid);
    };
    try {
      const cwds = [freshDir("auto-router-window-a"), freshDir("auto-router-window-b")];
      for (const cwd of cwds)
        windows.push(await startRpc({ agentDir: dir.agentDir, cwd, args: ["--model", "auto-router/main"] }));
      const [first, second] = windows as [RpcClient, RpcClient];
      const [firstPid, secondPid] = cwds.map(childIn) as [number, number];

      await answer(first, ANSWERS_PER_TURN);
      await until(() => counted() === 3, "the first window's spend in the ledger");
      await pause(firstPid); // its view: its own 3 answers
      await answer(second, ANSWERS_PER_TURN);
      await until(() => counted() === 6, "the second window's spend in the ledger");
      await pause(secondPid); // its view: all 6

      const text = readFileSync(ledgerFile);
      writeFileSync(ledgerFile, text.subarray(0, Math.min(200, text.length - 1)));
      resume(firstPid);
      // The first window's refresh finds the damage and rewrites the file from its view: 3 answers.
      await until(
        () => readdirSync(extensions).some((name) => name.startsWith("auto-router.usage.json.corrupt-")),
        "the first window to move the damaged ledger aside",
        30_000,
      );
      await until(() => counted() !== undefined, "the first window to rewrite the ledger", 30_000);
      resume(secondPid);

      await answer(first, ANSWERS_PER_TURN);
      await answer(second, ANSWERS_PER_TURN);
      for (const window of windows.splice(0)) assert.equal((await window.close()).code, 0, window.stderr);

      assert.equal(emulator.calls.length, 4 * ANSWERS_PER_TURN);
      assert.equal(counted(), 4 * ANSWERS_PER_TURN, "every answer counted in the ledger");
    } finally {
      for (const pid of stopped) process.kill(pid, "SIGCONT");
      await Promise.all(windows.map((window) => window.close()));
      dir.cleanup();
    }
  });
});
