// The gateway's own response headers: printable ASCII kept, anything else a \u escape that JSON reads back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headerText } from "../../src/gateway/header-text.ts";

describe("headerText", () => {
  it("keeps printable ASCII and escapes the rest as JSON would", () => {
    assert.equal(headerText('openai/gpt-4o [{"a":1}] ~'), 'openai/gpt-4o [{"a":1}] ~');
    assert.equal(
      headerText("mock-ä/日本\u0000\t\n\u007f😀"),
      "mock-\\u00e4/\\u65e5\\u672c\\u0000\\u0009\\u000a\\u007f\\ud83d\\ude00",
    );
    const attempts = JSON.stringify([{ target: "ß-provider/b-ü 😀" }]);
    assert.deepEqual(JSON.parse(headerText(attempts)), [{ target: "ß-provider/b-ü 😀" }]);
  });
});
