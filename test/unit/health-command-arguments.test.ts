// /auto-router health's words: a flag it does not have is named as a flag (with the one meant), a word that is no flag
// as unexpected (with the flag meant when it is one written without its dashes). Refused before anything is read.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CommandDeps, CommandOutput } from "../../src/commands/command-types.ts";
import type { HealthBook } from "../../src/health/health-book.ts";
import { healthCommand } from "../../src/health/health-command.ts";
import type { UsageReadings } from "../../src/health/health-check.ts";

async function refusal(args: string[]): Promise<string> {
  const errors: string[] = [];
  const output = {
    info: () => assert.fail("no report for a refused word"),
    warn: () => {},
    error: (text: string) => void errors.push(text),
  } as CommandOutput;
  const command = healthCommand({} as HealthBook, {} as UsageReadings);
  await command.run(args, {} as CommandDeps, output);
  assert.equal(errors.length, 1);
  return errors[0]!;
}

describe("/auto-router health arguments", () => {
  it("calls a word that is no flag unexpected, and names the flag a word without its dashes is", async () => {
    // Before: 'health: unknown flag "extra"' and 'health: unknown flag "json"', with no flag meant.
    assert.equal(await refusal(["extra"]), 'health: unexpected "extra"\nusage: /auto-router health [--probe] [--json]');
    assert.equal(
      await refusal(["--probe", "json"]),
      'health: unexpected "json"; did you mean "--json"?\nusage: /auto-router health [--probe] [--json]',
    );
    assert.equal(
      await refusal(["--jsn"]),
      'health: unknown flag "--jsn"; did you mean "--json"?\nusage: /auto-router health [--probe] [--json]',
    );
  });
});
