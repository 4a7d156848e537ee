// /auto-router uvi: while quota pacing is off it demotes, excludes and promotes nothing, and the report says so rather
// than describing its mode as if it acted ("disabled, soft mode: stressed providers are demoted").
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CommandDeps, CommandOutput } from "../../src/commands/command-types.ts";
import { uviCommand } from "../../src/quota/uvi-command.ts";
import { type QuotaService, type UviSettings, uviSettings } from "../../src/quota/uvi-settings.ts";
import { DEFAULT_UVI_THRESHOLDS } from "../../src/routing/uvi.ts";

async function report(enabled: boolean, settings: Partial<UviSettings>): Promise<string[]> {
  const service = {
    settings: () => ({ enabled, hard: false, thresholds: { ...DEFAULT_UVI_THRESHOLDS }, ...settings }),
    enabled: () => enabled,
    assess: () => ({}),
    sources: () => ({ list: () => [], reading: () => undefined }),
  } as unknown as QuotaService;
  let text = "";
  const output = { info: (shown: string) => void (text = shown) } as unknown as CommandOutput;
  await uviCommand(service).run([], { now: () => 0 } as unknown as CommandDeps, output);
  return text.split("\n");
}

describe("/auto-router uvi show", () => {
  it("says pacing acts on no provider while it is disabled, and what its mode does once enabled", async () => {
    const [off, thresholds] = await report(false, { hard: true, forcedOff: "AUTO_ROUTER_UVI=0" });
    assert.equal(
      off,
      "quota pacing (UVI = used share / elapsed share of a window): disabled by AUTO_ROUTER_UVI=0, so no provider is demoted, excluded or promoted for its quota; once enabled, hard mode: stressed providers are excluded",
    );
    assert.match(thresholds!, /^once enabled: critical ≥ 2 or used up \(excluded\), stressed ≥ 1\.5 \(excluded\)/);
    const { enabledBy } = uviSettings(
      { uvi: { enabled: false } },
      {},
      { values: { autoRouterUviEnabled: true }, fileOf: () => "pi's settings.json" },
    );
    const [fromFile] = await report(false, { enabledBy });
    assert.match(fromFile!, /: disabled by uvi\.enabled: false in the routes file, so no provider is demoted/);
    const [on, onThresholds] = await report(true, {});
    assert.equal(
      on,
      "quota pacing (UVI = used share / elapsed share of a window): enabled, soft mode: stressed providers are demoted",
    );
    assert.match(onThresholds!, /^critical ≥ 2 or used up \(excluded\), stressed ≥ 1\.5 \(demoted\)/);
  });
});
