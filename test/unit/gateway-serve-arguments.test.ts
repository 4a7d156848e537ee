// `pi-auto-router serve`'s flags as the command reads them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLoopback, parseServeArguments } from "../../src/gateway/cli-arguments.ts";

describe("serve arguments", () => {
  it("reads an IPv6 --host written as in a URL, [::1], as the address it brackets, which it can listen on", () => {
    assert.equal(parseServeArguments(["--host", "[::1]"]).host, "::1");
    assert.equal(parseServeArguments(["--host=[::1]"]).host, "::1");
    assert.equal(parseServeArguments(["--host", "::1"]).host, "::1");
    assert.ok(isLoopback(parseServeArguments(["--host", "[::1]"]).host));
    assert.equal(parseServeArguments(["--host", "[::]", "--allow-remote"]).host, "::");
  });

  it("refuses an empty --host (an unset variable), which listen() would read as every interface", () => {
    for (const args of [
      ["--host", ""],
      ["--host="],
      ["--host", " "],
      ["--host", "[]"],
      ["--host", "", "--allow-remote"],
    ])
      assert.throws(
        () => parseServeArguments(args),
        /^Error: --host: expected an address to bind \(default 127\.0\.0\.1\), got "\s*(\[\])?"; leave --host out for 127\.0\.0\.1\n/,
        JSON.stringify(args),
      );
  });

  it("points serve --version at the command that prints the version", () => {
    for (const flag of ["--version", "-v"])
      assert.throws(
        () => parseServeArguments([flag]),
        new RegExp(
          `^Error: serve takes no ${flag}: the version is \`pi-auto-router --version\`\nusage: pi-auto-router serve`,
        ),
      );
  });
});
