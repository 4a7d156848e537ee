// A streamed form upload's `model` field rewritten to the target's model id as it passes (multipart-model.ts),
// whatever the chunks' edges, and every other byte passed on as it came.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { describe, it } from "node:test";
import { MultipartModelRewrite, multipartBoundary } from "../../src/gateway/multipart-model.ts";

const BOUNDARY = "----formdata-undici-0123";
const part = (headers: string, value: string) => `--${BOUNDARY}\r\n${headers}\r\n\r\n${value}\r\n`;
const form = (...parts: string[]) => `${parts.join("")}--${BOUNDARY}--\r\n`;
const FILE = part(
  'Content-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav',
  "RIFF model\r\n--x",
);

/** The body passed through the rewrite in chunks of `size` bytes. */
function rewritten(body: string, size: number, modelId = "whisper-1"): Promise<string> {
  const bytes = Buffer.from(body);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return text(Readable.from(chunks).pipe(new MultipartModelRewrite(BOUNDARY, modelId)));
}

describe("a form upload's model field, rewritten as it streams", () => {
  it("reads the boundary of a multipart/form-data type only, quoted or not", () => {
    assert.equal(multipartBoundary(`multipart/form-data; boundary=${BOUNDARY}`), BOUNDARY);
    assert.equal(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b"'), "a b");
    assert.equal(multipartBoundary("multipart/mixed; boundary=x"), undefined);
    assert.equal(multipartBoundary("application/octet-stream"), undefined);
    assert.equal(multipartBoundary("multipart/form-data"), undefined);
  });

  it("replaces the model field's value before or after the file, split anywhere between chunks", async () => {
    const model = part('Content-Disposition: form-data; name="model"', "auto-router/audio");
    const expected = part('Content-Disposition: form-data; name="model"', "whisper-1");
    for (const [body, want] of [
      [form(FILE, model), form(FILE, expected)],
      [form(model, FILE), form(expected, FILE)],
    ])
      for (const size of [1, 2, 3, 7, 64, 10_000]) assert.equal(await rewritten(body, size), want, `chunks of ${size}`);
  });

  it("leaves a file part named model, other fields and a body without a model field as they came", async () => {
    const fileNamedModel = part('Content-Disposition: form-data; name="model"; filename="m.bin"', "bytes");
    const other = part('Content-Disposition: form-data; name="model_name"', "audio");
    for (const body of [form(FILE), form(fileNamedModel, other), "not a form at all"])
      for (const size of [1, 5, 10_000]) assert.equal(await rewritten(body, size), body);
  });

  it("rewrites the first model field only", async () => {
    const model = part('content-disposition: form-data; name="model"', "audio");
    const body = form(model, model);
    const want = form(part('content-disposition: form-data; name="model"', "m-1"), model);
    assert.equal(await rewritten(body, 3, "m-1"), want);
  });
});
