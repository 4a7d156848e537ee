// The router's environment: switches read as people write them, and AUTO_ROUTER_* names nothing reads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { environmentProblems, readSwitch, unknownEnvironmentNames } from "../../src/config/environment.ts";

describe("readSwitch", () => {
  it("reads 1/true/on/yes as on and 0/false/off/no as off, whatever the case and padding", () => {
    for (const text of ["1", "true", "ON", " yes "]) assert.deepEqual(readSwitch("X", text), { on: true }, text);
    for (const text of ["0", "False", "off", "NO"]) assert.deepEqual(readSwitch("X", text), { on: false }, text);
  });

  it("treats unset and empty as not set, and names any other value", () => {
    assert.deepEqual(readSwitch("X", undefined), {});
    assert.deepEqual(readSwitch("X", "  "), {});
    assert.deepEqual(readSwitch("AUTO_ROUTER_UVI", "disabled"), {
      problem: 'AUTO_ROUTER_UVI="disabled" is not used: expected 0 (off) or 1 (on)',
    });
  });
});

describe("unknownEnvironmentNames", () => {
  it("names every AUTO_ROUTER_* variable nothing reads, with the closest known name", () => {
    assert.deepEqual(
      unknownEnvironmentNames({
        AUTO_ROUTER_BREAKER_RATO: "0.5",
        AUTO_ROUTER_LOG_DIR: "/tmp/ok",
        AUTO_ROUTER_SOMETHING_ELSE_ENTIRELY: "1",
        HOME: "/home/x",
      }),
      [
        "AUTO_ROUTER_BREAKER_RATO is set but not read by pi-auto-router; did you mean AUTO_ROUTER_BREAKER_RATIO?",
        "AUTO_ROUTER_SOMETHING_ELSE_ENTIRELY is set but not read by pi-auto-router",
      ],
    );
  });

  it("finds nothing to say about a clean environment", () => {
    assert.deepEqual(environmentProblems({ AUTO_ROUTER_UVI: "0", AUTO_ROUTER_SHADOW: "true", PATH: "/bin" }), []);
  });
});
