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

  it("replaces a key cut short by at most 16 of its characters, at the end or in the middle, as it is written", () => {
    // A long key (Anthropic's are ~108 characters): its shared start and a half are text like any other.
    const long = `sk-ant-api03-${"aB3dE5".repeat(15)}xy`;
    const cut = long.slice(0, long.length - 16);
    for (const [text, expected] of [
      [`the key: ${cut}`, "the key: [REDACTED]"],
      [`the key: ${cut}Q and more`, "the key: [REDACTED]Q and more"],
      [`the key: ${long.slice(0, 54)}`, `the key: ${long.slice(0, 54)}`],
      ["keys begin sk-ant-api03-", "keys begin sk-ant-api03-"],
      [`${long} and ${long.slice(0, -1)}.`, "[REDACTED] and [REDACTED]."],
    ] as const) {
      assert.equal(TextScrub.all(text, [long]), expected, text);
      // Written a character at a time, the same comes out.
      const scrub = new TextScrub([long]);
      assert.equal([...text].map((character) => scrub.take(character)).join("") + scrub.end(), expected, text);
    }
    // A short key: its first 12 characters (the fewest a credential the router takes has) count.
    assert.equal(TextScrub.all(`sent ${KEY.slice(0, 12)}`, [KEY]), "sent [REDACTED]");
    assert.equal(TextScrub.all(`sent ${KEY.slice(0, 11)}`, [KEY]), `sent ${KEY.slice(0, 11)}`);
  });

  it("takes the longest of several keys that share their start", () => {
    const other = "sk-test-key-other-000000002";
    assert.equal(
      TextScrub.all(`${KEY} ${other} ${KEY.slice(0, 14)}!`, [other, KEY]),
      "[REDACTED] [REDACTED] [REDACTED]!",
    );
  });
});
