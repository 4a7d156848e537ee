// The real pi CLI (print mode) against the HTTP emulators: the notice of a wait for a cooling target names the
// targets the request's provider preferences left out, as the final error does; and a file where the routes file's
// directory should be is named as the problem.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeAgentDir, ROUTES_FILE_NAME, routeInOrder } from "../helpers/agent-dir.ts";
import { type EmulatedAgent, startEmulatedAgent, TWO_OPENAI_PROVIDERS } from "../helpers/emulated-agent.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { runPi } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

describe("pi CLI print mode: waiting for the one target an @only= allows", () => {
  let a: Emulator;
  let b: Emulator;
  let dir: EmulatedAgent<"A" | "B">;

  before(async () => {
    dir = await startEmulatedAgent({
      emulators: { A: "openai", B: "openai" },
      providers: TWO_OPENAI_PROVIDERS,
      settings: { retry: { enabled: false } },
      routes: {
        routes: {
          pair: {
            ...routeInOrder("mock-a/model-a", "mock-b/model-b"),
            failover: { kinds: { server: { cooldownMs: 2_000 } } },
          },
        },
      },
    });
    ({ A: a, B: b } = dir.emulators);
  });
  after(() => dir?.stop());

  it("says the targets the preferences allow failed and names the ones they left out, as the final error does", async () => {
    a.enqueue({ status: 500 }, { text: "A is back." });
    const run = await runPi({
      agentDir: dir.agentDir,
      // On stdin: pi reads an argument starting with @ as a file to attach.
      args: ["--model", "auto-router/pair", "-p"],
      stdin: "@only=mock-a Say hi",
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "A is back.");
    const waiting = run.stderr.split("\n").filter((line) => line.includes("waiting"));
    assert.equal(waiting.length, 1, run.stderr);
    assert.match(
      waiting[0]!,
      /^auto-router: every target of route pair the provider preferences allow failed \(mock-a\/model-a: server error\); the provider preferences left out the route's other targets \(mock-b\/model-b: not in only: mock-a\); waiting [\d.]+s for mock-a\/model-a to come back, then trying again$/,
    );
    assert.equal(a.calls.length, 2);
    assert.equal(b.calls.length, 0, "the target the @only= left out is never tried");
  });
});

describe("pi CLI: <agentDir>/extensions is a file", () => {
  const dirs: Array<() => void> = [];
  after(() => {
    for (const cleanup of dirs) cleanup();
  });

  it("names that file as what keeps the routes file from being read", async () => {
    const { agentDir, cleanup } = makeAgentDir();
    dirs.push(cleanup);
    const extensions = join(agentDir, "extensions");
    writeFileSync(extensions, "");
    // The state directory elsewhere: its own report of the same file is not what this test is about.
    const stateDir = freshDir("routes-dir-state");
    const run = await runPi({
      agentDir,
      env: { AUTO_ROUTER_LOG_DIR: stateDir },
      args: ["--list-models", "auto-router"],
    });
    const routesFile = join(extensions, ROUTES_FILE_NAME);
    assert.ok(
      run.stderr.includes(
        `error: ${routesFile}: ${extensions} is a file, not a directory: the routes file cannot be there`,
      ),
      run.stderr,
    );
    assert.doesNotMatch(run.stderr, /ENOTDIR/);
  });
});
