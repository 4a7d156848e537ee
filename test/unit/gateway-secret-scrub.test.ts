import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, it } from "node:test";
import { SecretScrub, sentSecrets } from "../../src/gateway/secret-scrub.ts";

const KEY = "sk-test-key-000000000001";
const scrubbed = async (chunks: Array<string | Buffer>, secrets = [KEY]) =>
  buffer(Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(new SecretScrub(secrets)));

describe("SecretScrub", () => {
  it("replaces a secret wherever the chunks split it", async () => {
    const text = `{"authorization":"Bearer ${KEY}","again":"${KEY}"}`;
    for (let cut = 0; cut <= text.length; cut++) {
      const out = await scrubbed([text.slice(0, cut), text.slice(cut)]);
      assert.equal(out.toString(), '{"authorization":"Bearer [REDACTED]","again":"[REDACTED]"}', `cut at ${cut}`);
    }
    const bytes = await scrubbed([...text]);
    assert.equal(bytes.toString(), '{"authorization":"Bearer [REDACTED]","again":"[REDACTED]"}');
  });
  it("prefers the longer of two secrets that start at the same byte, and leaves other bytes as they are", async () => {
    const out = await scrubbed([`a ${KEY}-suffix-000000 b ${KEY}`], [`${KEY}-suffix-000000`, KEY]);
    assert.equal(out.toString(), "a [REDACTED] b [REDACTED]");
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, index) => index % 256));
    assert.deepEqual(await scrubbed([binary.subarray(0, 1000), binary.subarray(1000)]), binary);
  });
  it("looks for the key and each credential header's value, and a scheme's token, of 12 characters or more", () => {
    assert.deepEqual(sentSecrets({ apiKey: KEY, headers: { "x-custom": "Token abcdefghijkl0123", short: "abc" } }), [
      KEY,
      "Token abcdefghijkl0123",
      "abcdefghijkl0123",
    ]);
    assert.deepEqual(sentSecrets({ apiKey: "short" }), []);
  });
});
