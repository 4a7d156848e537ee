// pi's settings as the router reads them: the global settings.json with the project's `.pi/settings.json` over it,
// merged as pi merges them, and when pi's own retry of a failed prompt comes.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PI_DEFAULT_RETRY_DELAY_MS, piRetryDelayMs, readPiSettings } from "../../src/state/pi-settings.ts";

const root = mkdtempSync(join(tmpdir(), "pi-settings-"));
after(() => rmSync(root, { recursive: true, force: true }));

function dirs(global: unknown, project?: unknown): { agentDir: string; cwd: string } {
  const base = mkdtempSync(join(root, "case-"));
  const agentDir = join(base, "agent");
  const cwd = join(base, "project");
  mkdirSync(agentDir);
  mkdirSync(join(cwd, ".pi"), { recursive: true });
  writeFileSync(join(agentDir, "settings.json"), typeof global === "string" ? global : JSON.stringify(global));
  if (project !== undefined)
    writeFileSync(join(cwd, ".pi", "settings.json"), typeof project === "string" ? project : JSON.stringify(project));
  return { agentDir, cwd };
}

describe("pi's settings", () => {
  it("merges the project's settings over the global ones, objects one level deep, as pi does", () => {
    const { agentDir, cwd } = dirs(
      { retry: { enabled: true, baseDelayMs: 500, maxRetries: 2 }, theme: "dark", autoRouterUviEnabled: true },
      { retry: { baseDelayMs: 40 }, theme: "light" },
    );
    const settings = readPiSettings(agentDir, cwd);
    assert.deepEqual(settings.values, {
      retry: { enabled: true, baseDelayMs: 40, maxRetries: 2 },
      theme: "light",
      autoRouterUviEnabled: true,
    });
    assert.equal(piRetryDelayMs(settings.values), 40);
    // What a message names as a setting's file: the project's for what it set, pi's settings.json for the rest.
    assert.equal(settings.fileOf("theme"), `the project's ${join(cwd, ".pi", "settings.json")}`);
    assert.equal(settings.fileOf("autoRouterUviEnabled"), "pi's settings.json");
  });

  it("reads a missing or broken file as none, and a retry delay that is no number as pi's default", () => {
    const { agentDir, cwd } = dirs({ retry: { baseDelayMs: 300 } }, "{ not json");
    assert.equal(piRetryDelayMs(readPiSettings(agentDir, cwd).values), 300);
    assert.equal(
      piRetryDelayMs(readPiSettings(join(root, "nowhere"), join(root, "nowhere")).values),
      PI_DEFAULT_RETRY_DELAY_MS,
    );
    for (const baseDelayMs of ["10", -5, null, Number.NaN])
      assert.equal(piRetryDelayMs({ retry: { baseDelayMs } }), PI_DEFAULT_RETRY_DELAY_MS, String(baseDelayMs));
    assert.equal(piRetryDelayMs({ retry: { baseDelayMs: 0 } }), 0);
  });

  it("reads the global settings when the directory it runs in was removed", () => {
    const { agentDir } = dirs({ retry: { baseDelayMs: 70 } });
    const gone = mkdtempSync(join(root, "gone-"));
    const home = process.cwd();
    process.chdir(gone);
    try {
      rmSync(gone, { recursive: true });
      assert.throws(() => process.cwd(), /ENOENT/);
      assert.equal(piRetryDelayMs(readPiSettings(agentDir).values), 70);
    } finally {
      process.chdir(home);
    }
  });
});
