import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { forgetRememberedCredentials, rememberCredentials } from "../../src/state/redact.ts";
import { TextScrub } from "../../src/state/secret-scan.ts";

const KEY = "sk-test-key-000000000001";

describe("TextScrub", () => {
  it("replaces a secret wherever two writes split it, holding back only a possible start of one", () => {
    const text = `data: {"text":"you sent Bearer ${KEY}"}\n\ndata: {"again":"${KEY}"}\n\n`;
    const expected = 'data: {"text":"you sent Bearer [REDACTED]"}\n\ndata: {"again":"[REDACTED]"}\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const scrub = new TextScrub([KEY]);
      const first = scrub.take(text.slice(0, cut));
      if (cut <= text.indexOf(KEY)) {
        const held = text.slice(first.length, cut);
        assert.ok(text.startsWith(first) && KEY.startsWith(held), `cut at ${cut}: only a start of the key waits`);
      }
      assert.equal(first + scrub.take(text.slice(cut)) + scrub.end(), expected, `cut at ${cut}`);
    }
  });
  it("passes text that holds no secret on unchanged, and a held start that was no secret at the end", () => {
    const scrub = new TextScrub([KEY]);
    assert.equal(scrub.take('data: {"done":true}\n\n'), 'data: {"done":true}\n\n');
    assert.equal(scrub.take("a cut sk-te"), "a cut ");
    assert.equal(scrub.end(), "sk-te");
    assert.equal(new TextScrub([]).take(`${KEY}`), KEY, "no credential known: nothing to scrub");
  });
  it("scrubs the credentials the router resolved, also as JSON text spells them", () => {
    forgetRememberedCredentials();
    const quoted = 'self-hosted"key\\0001';
    try {
      rememberCredentials(quoted);
      const body = JSON.stringify({ text: `key ${quoted} and sk-te` });
      assert.equal(TextScrub.all(body), '{"text":"key [REDACTED] and sk-te"}');
    } finally {
      forgetRememberedCredentials();
    }
  });
});
