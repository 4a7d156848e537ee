// The gateway's parser of OpenRouter's provider grammar, for the unit tests of its refusals.
import assert from "node:assert/strict";
import { parseProviderPreferences } from "../../src/gateway/provider-preferences.ts";

/** The message a body's `provider` (or, `header`, an X-Provider header's text) is refused with; fails when taken. */
export function refusedPreferences(value: unknown, header = false): string {
  try {
    parseProviderPreferences(value, header ? "X-Provider header" : "body.provider", header);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail(`${JSON.stringify(value)} was taken`);
}
