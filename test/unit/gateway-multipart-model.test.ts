// A streamed form upload's `model` field rewritten to the target's model id as it passes (multipart-model.ts),
// whatever the chunks' edges, and every other byte passed on as it came.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import { PassThrough, Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { describe, it } from "node:test";
import {
  FormClientGone,
  MultipartModelRewrite,
  multipartBoundary,
  readCompressedFormModel,
  readFormModel,
} from "../../src/gateway/multipart-model.ts";
import { streamDecoder } from "../../src/gateway/request-encoding.ts";
import { buffer } from "node:stream/consumers";
import zlib from "node:zlib";

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

/** A request that is still open (its body not complete). */
const openRequest = () =>
  Object.assign(new EventEmitter(), { complete: false, destroyed: false }) as unknown as IncomingMessage;

/** Writes `body` to a stream in chunks of `size` bytes, ending it when `end`. */
function chunked(body: string, size: number, end = true): PassThrough {
  const stream = new PassThrough();
  const bytes = Buffer.from(body);
  for (let at = 0; at < bytes.length; at += size) stream.write(bytes.subarray(at, at + size));
  if (end) stream.end();
  return stream;
}

describe("a form upload read up to its model field, to route it", () => {
  const model = part('Content-Disposition: form-data; name="model"', "auto-router/audio");
  const format = part('Content-Disposition: form-data; name="response_format"', "json");

  it("reads a form whole when its model field comes last, as the openai clients send it, and says where the value is", async () => {
    const body = form(FILE, model);
    for (const size of [1, 2, 7, 64, 10_000]) {
      const read = await readFormModel(chunked(body, size), BOUNDARY, openRequest());
      assert.equal(read.whole, true, `chunks of ${size}`);
      assert.equal(read.bytes.toString(), body);
      assert.equal(read.model?.value, "auto-router/audio");
      assert.equal(read.bytes.subarray(read.model!.start, read.model!.end).toString(), "auto-router/audio");
    }
  });

  it("stops at the model field's end when another part follows it, leaving the rest in the body", async () => {
    const big = part('Content-Disposition: form-data; name="file"; filename="a.wav"', "RIFF".repeat(5_000));
    const body = form(model, big, format);
    for (const size of [1, 3, 64]) {
      const stream = chunked(body, size);
      const read = await readFormModel(stream, BOUNDARY, openRequest());
      assert.equal(read.whole, false, `chunks of ${size}`);
      assert.equal(read.model?.value, "auto-router/audio");
      assert.ok(read.bytes.length < model.length + 200, `the file was not read: ${read.bytes.length} bytes read`);
      assert.equal(read.bytes.toString() + (await text(stream)), body, "nothing lost between the two");
    }
  });

  it("reads a form without a model field whole, and one whose field is too long for a model's name as unreadable", async () => {
    const none = await readFormModel(chunked(form(FILE, format), 5), BOUNDARY, openRequest());
    assert.deepEqual(
      { whole: none.whole, model: none.model, bytes: none.bytes.toString() },
      {
        whole: true,
        model: undefined,
        bytes: form(FILE, format),
      },
    );
    // Whatever the chunks' edges: the value past 16 KiB is read no further, and a rewrite leaves the form as it came.
    const long = part('Content-Disposition: form-data; name="model"', "m".repeat(20_000));
    for (const size of [1_000, 100_000]) {
      const read = await readFormModel(chunked(form(long, FILE), size, false), BOUNDARY, openRequest());
      assert.equal(read.unreadable, "its value is longer than 16384 bytes", `chunks of ${size}`);
      assert.equal(read.model, undefined);
      assert.equal(await rewritten(form(long, FILE), size), form(long, FILE), `chunks of ${size}`);
    }
  });

  it("rejects when the body fails or the client leaves before the model field", async () => {
    const failing = chunked(FILE, 10, false);
    const reading = readFormModel(failing, BOUNDARY, openRequest());
    failing.destroy(new Error("request body is larger than the gateway's limit"));
    await assert.rejects(reading, /larger than the gateway's limit/);
    const request = openRequest();
    const gone = readFormModel(chunked(FILE, 10, false), BOUNDARY, request);
    request.emit("close");
    await assert.rejects(gone, FormClientGone);
  });
});

describe("a compressed form upload read up to its model field, to route it", () => {
  const model = part('Content-Disposition: form-data; name="model"', "auto-router/audio");
  const big = part('Content-Disposition: form-data; name="file"; filename="a.wav"', "RIFF".repeat(50_000));
  const compress = {
    gzip: zlib.gzipSync,
    "x-gzip": zlib.gzipSync,
    deflate: zlib.deflateSync,
    br: zlib.brotliCompressSync,
  };
  /** `bytes` written to a stream in chunks of `size`. */
  const streamOf = (bytes: Buffer, size: number) => {
    const stream = new PassThrough();
    for (let at = 0; at < bytes.length; at += size) stream.write(bytes.subarray(at, at + size));
    stream.end();
    return stream;
  };

  it("decodes gzip, deflate and br only to find the field: the bytes held are as they came, the rest left in the body", async () => {
    for (const [encoding, encode] of Object.entries(compress))
      for (const body of [form(FILE, model), form(model, big, FILE)]) {
        const sent = encode(Buffer.from(body));
        const stream = streamOf(sent, 7);
        const read = await readCompressedFormModel(stream, BOUNDARY, openRequest(), encoding, 1_000_000);
        assert.equal(read.model?.value, "auto-router/audio", encoding);
        assert.equal(read.encoding, encoding);
        const rest = read.whole ? Buffer.alloc(0) : await buffer(stream);
        assert.ok(Buffer.concat([read.bytes, rest]).equals(sent), `${encoding}: the compressed bytes as they came`);
        assert.equal((await buffer(Readable.from([read.bytes, rest]).pipe(streamDecoder(encoding)!))).toString(), body);
      }
  });

  it("refuses a body its Content-Encoding does not decode (400), and one that decodes past the body limit (413)", async () => {
    await assert.rejects(
      readCompressedFormModel(streamOf(Buffer.from(form(FILE, model)), 5), BOUNDARY, openRequest(), "gzip", 1_000_000),
      (error: Error & { statusCode?: number }) =>
        /^request body: not valid gzip data, as Content-Encoding: gzip says it is \(incorrect header check\), so its form field `model` could not be read to choose a target$/.test(
          error.message,
        ),
    );
    const bomb = zlib.gzipSync(Buffer.from(form(big, model)));
    assert.ok(bomb.length < 10_000);
    await assert.rejects(
      readCompressedFormModel(streamOf(bomb, 1_000), BOUNDARY, openRequest(), "gzip", 100_000),
      /larger than the gateway's limit of 100000 bytes .* \(once decoded from gzip\)$/,
    );
  });
});
