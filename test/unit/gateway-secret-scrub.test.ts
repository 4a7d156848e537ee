import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, it } from "node:test";
import { SecretScrub } from "../../src/gateway/secret-scrub.ts";

const KEY = "sk-test-key-000000000001";
const scrubbed = async (chunks: Array<string | Buffer>, secrets = [KEY]) =>
  buffer(Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(new SecretScrub(secrets)));

describe("SecretScrub", () => {
  it("scrubs a whole body at once, its end included, and hands back the body itself when it holds none", () => {
    const body = Buffer.from(`{"a":"${KEY}","é":"ends in sk-te"}`);
    assert.equal(SecretScrub.all(body, [KEY]).toString(), '{"a":"[REDACTED]","é":"ends in sk-te"}');
    const clean = Buffer.from("no secret, ends in sk-test");
    assert.equal(SecretScrub.all(clean, [KEY]), clean);
    assert.equal(SecretScrub.all(body, []), body);
  });
  it("replaces a key the body ends inside, whole or streamed", async () => {
    const body = `{"error":"bad key"}\nyou sent ${KEY.slice(0, 16)}`;
    assert.equal(SecretScrub.all(Buffer.from(body), [KEY]).toString(), '{"error":"bad key"}\nyou sent [REDACTED]');
    assert.equal(
      (await scrubbed([body.slice(0, -3), body.slice(-3)])).toString(),
      '{"error":"bad key"}\nyou sent [REDACTED]',
    );
    assert.equal(
      (await scrubbed(["ends in sk-test"])).toString(),
      "ends in sk-test",
      "a start shorter than 12 characters",
    );
  });
  it("replaces a secret wherever the chunks split it", async () => {
    const text = `{"authorization":"Bearer ${KEY}","again":"${KEY}"}`;
    for (let cut = 0; cut <= text.length; cut++) {
      const out = await scrubbed([text.slice(0, cut), text.slice(cut)]);
      assert.equal(out.toString(), '{"authorization":"Bearer [REDACTED]","again":"[REDACTED]"}', `cut at ${cut}`);
    }
    const bytes = await scrubbed([...text]);
    assert.equal(bytes.toString(), '{"authorization":"Bearer [REDACTED]","again":"[REDACTED]"}');
  });
  it("passes a chunk on at once unless its end could begin a secret", async () => {
    const scrub = new SecretScrub([KEY]);
    const out: string[] = [];
    scrub.on("data", (chunk: Buffer) => out.push(chunk.toString()));
    scrub.write(Buffer.from("chunk 0\n"));
    scrub.write(Buffer.from("then sk-te"));
    assert.deepEqual(out, ["chunk 0\n", "then "], "the possible start of the key waits");
    scrub.end(Buffer.from("a is no key"));
    await new Promise((resolve) => scrub.on("end", resolve));
    assert.equal(out.join(""), "chunk 0\nthen sk-tea is no key");
  });
  it("prefers the longer of two secrets that start at the same byte, and leaves other bytes as they are", async () => {
    const out = await scrubbed([`a ${KEY}-suffix-000000 b ${KEY}`], [`${KEY}-suffix-000000`, KEY]);
    assert.equal(out.toString(), "a [REDACTED] b [REDACTED]");
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, index) => index % 256));
    assert.deepEqual(await scrubbed([binary.subarray(0, 1000), binary.subarray(1000)]), binary);
  });
});
