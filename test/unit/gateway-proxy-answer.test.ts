// How the wildcard proxy passes back the upstream's content-length: as it came, after a scrub of the whole body, or not.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { answerLength, fetchDecoded, LENGTH_KEPT_BYTES } from "../../src/gateway/proxy-forward.ts";

const headers = (init: Record<string, string>) => new Headers(init);

describe("the content-length a proxied answer keeps", () => {
  it("keeps the declared length of an answer without a body, whatever else holds", () => {
    const gzipped = headers({ "content-length": "120", "content-encoding": "gzip" });
    assert.equal(answerLength("HEAD", 200, gzipped, true), "as-is");
    assert.equal(answerLength("GET", 204, headers({ "content-length": "0" }), true), "as-is");
    assert.equal(answerLength("GET", 304, headers({ "content-length": "9" }), true), "as-is");
  });

  it("keeps it for a body passed on byte for byte: no decoded encoding, no credential to scrub", () => {
    assert.equal(answerLength("GET", 200, headers({ "content-length": "5" }), false), "as-is");
    const identity = headers({ "content-length": "5", "content-encoding": "identity" });
    assert.equal(answerLength("GET", 200, identity, false), "as-is");
  });

  it("reads a body whole to send the length it has after the scrub, when credentials are known", () => {
    assert.equal(answerLength("GET", 200, headers({ "content-length": "5" }), true), "scrubbed");
    const longest = headers({ "content-length": String(LENGTH_KEPT_BYTES) });
    assert.equal(answerLength("POST", 201, longest, true), "scrubbed");
    const longer = headers({ "content-length": String(LENGTH_KEPT_BYTES + 1) });
    assert.equal(answerLength("GET", 200, longer, true), "none");
    assert.equal(answerLength("GET", 200, longer, false), "as-is");
  });

  it("sends no length for a body fetch decoded, or one declared without a valid length", () => {
    const gzipped = headers({ "content-length": "120", "content-encoding": "gzip" });
    assert.equal(answerLength("GET", 200, gzipped, false), "none");
    assert.equal(answerLength("GET", 200, headers({}), false), "none");
    assert.equal(answerLength("HEAD", 200, headers({}), false), "none");
  });
});

describe("whether fetch decoded a proxied answer (its Content-Encoding is then dropped)", () => {
  it("decodes a list of codings only when it knows every one, and never a bodyless answer", () => {
    assert.equal(fetchDecoded("GET", 200, "gzip"), true);
    assert.equal(fetchDecoded("GET", 200, "GZIP, br"), true);
    assert.equal(fetchDecoded("GET", 200, "x-gzip,deflate"), true);
    assert.equal(fetchDecoded("GET", 200, "compress"), false);
    assert.equal(fetchDecoded("GET", 200, "gzip, compress"), false);
    assert.equal(fetchDecoded("GET", 200, "gzip,"), false);
    assert.equal(fetchDecoded("HEAD", 200, "gzip"), false);
    assert.equal(fetchDecoded("GET", 304, "gzip"), false);
    assert.equal(fetchDecoded("GET", 200, null), false);
  });
});
