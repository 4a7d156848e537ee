import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { batchedLines } from "../../src/gateway/stderr-lines.ts";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("the gateway's stderr lines", () => {
  it("writes the lines of one turn of the event loop with one write, in order", async () => {
    const writes: string[] = [];
    const lines = batchedLines((text) => writes.push(text));
    lines.line("POST /v1/messages 200 served-by=a/m 3ms");
    lines.line("POST /v1/chat/completions 200 served-by=b/n 4ms");
    assert.deepEqual(writes, []);
    await nextTurn();
    assert.deepEqual(writes, [
      "POST /v1/messages 200 served-by=a/m 3ms\nPOST /v1/chat/completions 200 served-by=b/n 4ms\n",
    ]);
    lines.line("GET /health 200 1ms");
    await nextTurn();
    assert.deepEqual(writes.slice(1), ["GET /health 200 1ms\n"]);
  });

  it("writes what is pending at once on flush, and nothing twice", async () => {
    const writes: string[] = [];
    const lines = batchedLines((text) => writes.push(text));
    lines.line("SIGTERM is next");
    lines.flush();
    assert.deepEqual(writes, ["SIGTERM is next\n"]);
    await nextTurn();
    lines.flush();
    assert.deepEqual(writes, ["SIGTERM is next\n"]);
  });
});
