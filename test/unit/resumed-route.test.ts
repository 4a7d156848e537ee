import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { modelChosenOnCommandLine, routeToRestore, type SessionEntryLike } from "../../src/runtime/resumed-route.ts";

const change = (provider: string, modelId: string): SessionEntryLike => ({ type: "model_change", provider, modelId });
const answer = (provider: string, model: string): SessionEntryLike => ({
  type: "message",
  message: { role: "assistant", provider, model },
});
const user: SessionEntryLike = { type: "message", message: { role: "user" } };
const current = { provider: "mock-a", id: "model-a" };

describe("routeToRestore", () => {
  it("names the route when pi took the model of the last answer after a change to the route", () => {
    const branch = [
      change("auto-router", "pair"),
      user,
      answer("mock-b", "model-b"),
      user,
      answer("mock-a", "model-a"),
    ];
    assert.equal(routeToRestore(branch, current, "auto-router")?.route, "pair");
    assert.equal(routeToRestore(branch, current, "auto-router")?.resumedOn, "last-answer");
  });
  it("names the route when pi could not run the last answer's target and started on another model", () => {
    const branch = [change("auto-router", "pair"), user, answer("mock-b", "model-b")];
    const gone = (provider: string) => provider !== "mock-b";
    assert.deepEqual(routeToRestore(branch, current, "auto-router", gone), {
      route: "pair",
      resumedOn: "default",
      lastAnswer: { provider: "mock-b", id: "model-b" },
    });
    // pi could have run it: the other model is the user's choice.
    assert.equal(
      routeToRestore(branch, current, "auto-router", () => true),
      undefined,
    );
  });
  it("leaves a session the user moved to a target of their own, or one whose model is not the last answer's", () => {
    const moved = [change("auto-router", "pair"), user, answer("mock-a", "model-a"), change("mock-a", "model-a")];
    assert.equal(routeToRestore(moved, current, "auto-router"), undefined);
    const other = [change("auto-router", "pair"), user, answer("mock-b", "model-b")];
    assert.equal(routeToRestore(other, current, "auto-router"), undefined);
  });
  it("does nothing without an answer after the change, on the route already, or without a model", () => {
    assert.equal(routeToRestore([change("auto-router", "pair"), user], current, "auto-router"), undefined);
    const branch = [change("auto-router", "pair"), answer("mock-a", "model-a")];
    assert.equal(routeToRestore(branch, { provider: "auto-router", id: "pair" }, "auto-router"), undefined);
    assert.equal(routeToRestore(branch, undefined, "auto-router"), undefined);
  });
});

describe("modelChosenOnCommandLine", () => {
  it("sees --model, --provider and --models in either form, and nothing else", () => {
    assert.equal(modelChosenOnCommandLine(["node", "pi", "--continue", "--model", "a/b"]), true);
    assert.equal(modelChosenOnCommandLine(["node", "pi", "--provider=x"]), true);
    assert.equal(modelChosenOnCommandLine(["node", "pi", "--models", "a,b"]), true);
    assert.equal(modelChosenOnCommandLine(["node", "pi", "--continue", "-p", "--model-ish"]), false);
  });
});
