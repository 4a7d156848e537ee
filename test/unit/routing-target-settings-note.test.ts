import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { targetSettingsNotes } from "../../src/routing/target-settings-note.ts";

describe("targetSettingsNotes", () => {
  it("says nothing for a plain target", () => {
    assert.deepEqual(targetSettingsNotes({ provider: "a", modelId: "m" }), []);
  });

  it("names retries with their kinds and patched header names and body fields, never their values", () => {
    const notes = targetSettingsNotes({
      provider: "a",
      modelId: "m",
      retryBeforeFailover: { times: 2 },
      headers: { "x-team-token": "secret-value" },
      body: { provider: { order: ["x"] } },
    });
    assert.deepEqual(notes, [
      "retries up to 2x on rate_limit/overloaded/server before failing over",
      "request patch: header x-team-token, body.provider",
    ]);
    assert.doesNotMatch(notes.join(), /secret-value/);
  });
});
