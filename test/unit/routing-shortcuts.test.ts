import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  chooseShortcutTier,
  describeShortcuts,
  parseShortcuts,
  shortcutOnlyNotice,
} from "../../src/routing/shortcuts.ts";

describe("parseShortcuts", () => {
  it("strips a leading tier shortcut and records it", () => {
    const result = parseShortcuts("@reasoning prove that sqrt(2) is irrational");
    assert.equal(result.text, "prove that sqrt(2) is irrational");
    assert.deepEqual(result.shortcuts.tiers, ["reasoning"]);
    assert.deepEqual(result.shortcuts.tokens, ["@reasoning"]);
  });

  it("combines provider preferences with a tier shortcut", () => {
    const result = parseShortcuts(
      "@swe @only=anthropic,google @ignore=deepseek @sort=price @max-price=15 fix the build",
    );
    assert.equal(result.text, "fix the build");
    assert.deepEqual(result.shortcuts.tiers, ["swe"]);
    assert.deepEqual(result.shortcuts.preferences, {
      only: ["anthropic", "google"],
      ignore: ["deepseek"],
      sort: "price",
      maxPrice: 15,
    });
  });

  it("leaves an e-mail address in the prompt and returns the text unchanged", () => {
    const text = "mail bob@example.com about @fast";
    const result = parseShortcuts(text);
    assert.equal(result.text, text);
    assert.deepEqual(result.shortcuts.tokens, []);
  });

  it("does not treat a word containing @ at the start as a shortcut", () => {
    const result = parseShortcuts("@fast@home what now");
    assert.equal(result.text, "@fast@home what now");
    assert.deepEqual(result.shortcuts.tiers, []);
  });

  it("stops at an unknown @word and leaves it and the rest untouched", () => {
    const result = parseShortcuts("@fast @src/index.ts @long explain this file");
    assert.equal(result.text, "@src/index.ts @long explain this file");
    assert.deepEqual(result.shortcuts.tiers, ["fast"]);
  });

  it("only counts shortcuts at the start of the prompt", () => {
    const result = parseShortcuts("please use @reasoning here");
    assert.equal(result.text, "please use @reasoning here");
    assert.deepEqual(result.shortcuts.tiers, []);
  });

  it("rejects an invalid sort or price value and leaves the token in place", () => {
    assert.equal(parseShortcuts("@sort=random hi").text, "@sort=random hi");
    assert.equal(parseShortcuts("@max-price=cheap hi").text, "@max-price=cheap hi");
    assert.equal(parseShortcuts("@only= hi").text, "@only= hi");
  });

  it("accepts leading whitespace and a prompt made only of shortcuts", () => {
    const result = parseShortcuts("  @vision\n");
    assert.equal(result.text, "");
    assert.deepEqual(result.shortcuts.tiers, ["vision"]);
  });

  it("lower-cases provider names and merges repeated lists", () => {
    const result = parseShortcuts("@only=Anthropic @only=google,anthropic go");
    assert.deepEqual(result.shortcuts.preferences.only, ["anthropic", "google"]);
  });
});

describe("chooseShortcutTier", () => {
  it("picks long for @fast @long because capability tiers beat preference tiers", () => {
    assert.deepEqual(chooseShortcutTier(["fast", "long"]), { tier: "long", ignored: ["fast"] });
  });

  it("picks the first written tier within the same class", () => {
    assert.deepEqual(chooseShortcutTier(["swe", "reasoning"]), { tier: "swe", ignored: ["reasoning"] });
    assert.deepEqual(chooseShortcutTier(["vision", "long"]), { tier: "vision", ignored: ["long"] });
  });

  it("returns no tier when none was written", () => {
    assert.deepEqual(chooseShortcutTier([]), { ignored: [] });
  });
});

describe("shortcut-only prompts", () => {
  it("describes every typed shortcut in words", () => {
    const { shortcuts } = parseShortcuts("@vision @ignore=deepseek @sort=price @max-price=2");
    assert.equal(
      describeShortcuts(shortcuts),
      "@vision: only targets that accept images; @ignore=deepseek: never deepseek; @sort=price: rank by price; @max-price=2: skip targets above 2 USD per 1M output tokens",
    );
  });

  it("says that nothing was sent and shows how to use the shortcut", () => {
    const notice = shortcutOnlyNotice(parseShortcuts("@fast").shortcuts);
    assert.match(
      notice,
      /^auto-router: nothing was sent: @fast only says how the prompt after it is routed \(@fast: use the fast tier\)/,
    );
    assert.match(notice, /"@fast explain this error"/);
  });
});

describe("mistyped shortcuts", () => {
  it("names the shortcut a near-miss was meant to be, and what a value shortcut takes", () => {
    const reason = (text: string) => parseShortcuts(text).mistake?.reason;
    assert.equal(reason("@vison look at this"), 'did you mean "@vision"?');
    assert.equal(reason("@onyl=anthropic fix it"), 'did you mean "@only=anthropic"?');
    assert.equal(
      reason("@only fix it"),
      "@only= takes provider names separated by commas, e.g. @only=anthropic,openai",
    );
    assert.equal(reason("@max-price=cheap x"), "@max-price= takes USD per 1M output tokens, e.g. @max-price=15");
    assert.equal(
      reason("@fast @sort=prize x"),
      '@sort= takes one of price, latency, throughput; did you mean "@sort=price"?',
    );
  });

  it("says @only= and @ignore= take provider names when a value names a model", () => {
    const parsed = parseShortcuts("@only=gamma/g-haiku hi");
    assert.equal(parsed.text, "@only=gamma/g-haiku hi");
    assert.deepEqual(parsed.shortcuts.tokens, []);
    assert.equal(parsed.mistake?.reason, "@only= takes provider names (e.g. @only=gamma), not provider/model");
    assert.equal(
      parseShortcuts("@fast @ignore=alpha,gamma/g-opus x").mistake?.reason,
      "@ignore= takes provider names (e.g. @ignore=alpha,gamma), not provider/model",
    );
  });

  it("does not take a provider list broken by a space, and says how to write it", () => {
    const parsed = parseShortcuts("@only=gamma, beta hi");
    assert.equal(parsed.text, "@only=gamma, beta hi");
    assert.deepEqual(parsed.shortcuts.preferences, {});
    assert.equal(
      parsed.mistake?.reason,
      'a list of providers has no spaces: write "@only=gamma,beta" if beta is a provider, else "@only=gamma"',
    );
    // A comma before the prompt's first word: that word is offered only as a provider it may be.
    assert.equal(
      parseShortcuts("@only=beta, hi").mistake?.reason,
      'a list of providers has no spaces: write "@only=beta,hi" if hi is a provider, else "@only=beta"',
    );
    const atEnd = parseShortcuts("@fast @ignore=alpha,\n");
    assert.deepEqual(atEnd.shortcuts.tokens, ["@fast"]);
    assert.equal(
      atEnd.mistake?.reason,
      'the list of providers ends in a comma: write "@ignore=alpha", or name the next provider right after the comma',
    );
    // Two commas, or no name at all: never a suggestion that still ends in a comma or names nothing.
    assert.equal(
      parseShortcuts("@only=beta,, hi").mistake?.reason,
      'a list of providers has no spaces: write "@only=beta,hi" if hi is a provider, else "@only=beta"',
    );
    assert.equal(
      parseShortcuts("@ignore=alpha,,").mistake?.reason,
      'the list of providers ends in a comma: write "@ignore=alpha", or name the next provider right after the comma',
    );
    assert.equal(
      parseShortcuts("@only=, hi").mistake?.reason,
      "@only= takes provider names separated by commas, e.g. @only=anthropic,openai",
    );
  });

  it("says shortcuts written together need a space between them, and takes none of them", () => {
    const parsed = parseShortcuts("@long@only=beta summarise");
    assert.equal(parsed.text, "@long@only=beta summarise");
    assert.deepEqual(parsed.shortcuts.tokens, []);
    assert.equal(parsed.mistake?.reason, 'shortcuts are separated by spaces: write "@long @only=beta"');
    assert.equal(parseShortcuts("@fast @vision@reasonig x").mistake, undefined);
    assert.equal(parseShortcuts("@team@example.com x").mistake, undefined);
  });

  it("leaves file mentions, e-mail addresses and unrelated words alone", () => {
    for (const text of ["@src/index.ts explain", "@README.md x", "@Makefile x", "@someone hi", "bob@example.com"])
      assert.equal(parseShortcuts(text).mistake, undefined, text);
  });
});
