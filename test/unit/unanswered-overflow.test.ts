import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPrintMode, isTextPrintMode, UnansweredOverflow } from "../../src/ui/unanswered-overflow.ts";

const TOO_LONG =
  "auto-router: the prompt is too long for every target of route main (a/1: context window 4000 < 26233 tokens needed). Waiting will not change this: compact the conversation, or choose a route with a larger window.";
const refusal = { role: "assistant", provider: "auto-router", stopReason: "error", errorMessage: TOO_LONG };

describe("UnansweredOverflow", () => {
  it("gives the route's overflow error that ended the run, once", () => {
    const overflow = new UnansweredOverflow("auto-router");
    overflow.onMessageEnd({ role: "user" });
    overflow.onMessageEnd(refusal);
    overflow.onMessageEnd({ role: "user" }); // a message of another role changes nothing
    assert.equal(overflow.take(), TOO_LONG);
    assert.equal(overflow.take(), undefined);
  });

  it("forgets the overflow when pi's compaction recovered and an answer came after it", () => {
    const overflow = new UnansweredOverflow("auto-router");
    overflow.onMessageEnd(refusal);
    overflow.onMessageEnd({ role: "assistant", provider: "auto-router", stopReason: "stop" });
    assert.equal(overflow.take(), undefined);
  });

  it("leaves other errors, and another provider's overflow, to pi", () => {
    const overflow = new UnansweredOverflow("auto-router");
    overflow.onMessageEnd({ ...refusal, errorMessage: "auto-router: every target of route main failed" });
    assert.equal(overflow.take(), undefined);
    overflow.onMessageEnd({ ...refusal, provider: "openai" });
    assert.equal(overflow.take(), undefined);
  });
});

describe("isTextPrintMode", () => {
  it("is pi's print mode with text output: by ctx.mode on newer pi, by --mode on pi 0.73", () => {
    assert.equal(isTextPrintMode(false, "print", []), true);
    assert.equal(isTextPrintMode(false, "json", []), false);
    assert.equal(isTextPrintMode(true, "tui", []), false);
    assert.equal(isTextPrintMode(false, undefined, ["node", "pi", "-p", "hi"]), true);
    assert.equal(isTextPrintMode(false, undefined, ["node", "pi", "--mode", "json", "hi"]), false);
    assert.equal(isTextPrintMode(false, undefined, ["node", "pi", "--mode", "text", "hi"]), true);
    assert.equal(isTextPrintMode(true, undefined, ["node", "pi", "--mode", "rpc"]), false);
  });
});

describe("isPrintMode", () => {
  it("is pi's print mode with text or JSON output, not the TUI or RPC", () => {
    assert.equal(isPrintMode(false, "print", []), true);
    assert.equal(isPrintMode(false, "json", []), true);
    assert.equal(isPrintMode(false, "rpc", []), false);
    assert.equal(isPrintMode(true, "tui", []), false);
    assert.equal(isPrintMode(false, undefined, ["node", "pi", "-p", "hi"]), true);
    assert.equal(isPrintMode(false, undefined, ["node", "pi", "--mode", "json", "hi"]), true);
    assert.equal(isPrintMode(false, undefined, ["node", "pi", "--mode", "rpc"]), false);
    assert.equal(isPrintMode(true, undefined, ["node", "pi", "--mode", "rpc"]), false);
  });
});
