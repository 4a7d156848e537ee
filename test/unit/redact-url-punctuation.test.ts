// A secret in a URL's query parameter is replaced, and the punctuation that closes the sentence or the bracket the URL
// ends (`...&token=xyz).`) stays: only a run at the very end of the URL, never part of a value.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REDACTED, redactDeep, redactText } from "../../src/state/redact.ts";

// Built at run time: no key-shaped literal in the repository.
const SECRET = ["TOK", "SECRET", "9876543210", "xYz"].join("");

describe("redactText: punctuation after a URL's secret query value", () => {
  it("keeps the bracket and semicolon that close a sentence after the URL (the tester's 401)", () => {
    const text = `401 rejected (see https://h.example/x?api_key=${SECRET}1&token=${SECRET}); it rests for 30 min.`;
    assert.equal(
      redactText(text),
      `401 rejected (see https://h.example/x?api_key=${REDACTED}&token=${REDACTED}); it rests for 30 min.`,
    );
  });

  it("keeps each closing run before a space, a quote, an angle bracket or the end of the text", () => {
    for (const [tail, kept] of [
      [".", "."],
      [").", ")."],
      ["],", "],"],
      [":", ":"],
      [".) next", ".) next"],
      ['")', '")'],
      ["'", "'"],
      [">", ">"],
    ])
      assert.equal(
        redactText(`at https://h.example/?token=${SECRET}${tail}`),
        `at https://h.example/?token=${REDACTED}${kept}`,
      );
  });

  it("keeps only the run at the very end: punctuation inside a value, before more of the URL or a ! or ? is replaced", () => {
    assert.equal(
      redactText(`(https://h.example/?token=${SECRET}).x) next`),
      `(https://h.example/?token=${REDACTED}) next`,
    );
    assert.equal(
      redactText(`https://h.example/?token=${SECRET}).more&alt=sse`),
      `https://h.example/?token=${REDACTED}&alt=sse`,
    );
    assert.equal(redactText(`https://h.example/?key=${SECRET}.&alt=sse`), `https://h.example/?key=${REDACTED}&alt=sse`);
    assert.equal(redactText(`https://h.example/?sig=${SECRET};#frag`), `https://h.example/?sig=${REDACTED}#frag`);
    // A password may well end in ! or ?: they stay hidden.
    assert.equal(redactText(`https://h.example/?password=${SECRET}!`), `https://h.example/?password=${REDACTED}`);
    assert.equal(redactText(`https://h.example/?password=${SECRET}?)`), `https://h.example/?password=${REDACTED})`);
    // A value of punctuation alone is replaced whole: nothing of it is told apart from a secret.
    assert.equal(redactText("https://h.example/?password=).; next"), `https://h.example/?password=${REDACTED} next`);
    for (const tail of [".", ").", ";", "];"]) {
      const redacted = redactText(`(https://h.example/?secret=${SECRET}${tail} end`);
      assert.equal(redacted.includes(SECRET.slice(-3)), false, redacted);
    }
  });

  it("keeps the punctuation after a value another pattern already replaced, once", () => {
    // api_key is both a query parameter and a free-text field; an AIza key is replaced by its shape first.
    const google = `AIza${"Sy0123456789abcdefghijklmnopqrstuvw".slice(0, 35)}`;
    assert.equal(
      redactText(`see https://h.example/x?api_key=${SECRET}). next`),
      `see https://h.example/x?api_key=${REDACTED}). next`,
    );
    assert.equal(redactText(`see https://h.example/x?key=${google}).`), `see https://h.example/x?key=${REDACTED}).`);
  });

  it("keeps a redis URL's masked password and works inside JSON strings", () => {
    assert.equal(redactText("redis://h:6379/0?password=***)."), "redis://h:6379/0?password=***).");
    assert.deepEqual(redactDeep({ note: `see https://h.example/?token=${SECRET}).` }), {
      note: `see https://h.example/?token=${REDACTED}).`,
    });
  });
});

describe("redactText: punctuation after a header's or a field's secret in free text", () => {
  it("keeps what closes the sentence or bracket after a header value, a Bearer token or an assignment", () => {
    for (const [text, expected] of [
      [`(sent Authorization: Bearer ${SECRET}).`, `(sent Authorization: Bearer ${REDACTED}).`],
      [`x-api-key: ${SECRET}. Retry later`, `x-api-key: ${REDACTED}. Retry later`],
      [`check api_key=${SECRET}).`, `check api_key=${REDACTED}).`],
      [`the password: ${SECRET}.`, `the password: ${REDACTED}.`],
      [`client_secret = '${SECRET}'.`, `client_secret = '${REDACTED}'.`],
    ])
      assert.equal(redactText(text), expected);
  });

  it("replaces punctuation inside a value (only the closing run at its end stays), and a value of punctuation alone", () => {
    assert.equal(redactText(`x-api-key: ${SECRET}.x) next`), `x-api-key: ${REDACTED}) next`);
    assert.equal(redactText(`api_key=${SECRET}.tail`), `api_key=${REDACTED}`);
    assert.equal(redactText("password: ...)"), `password: ${REDACTED}`);
  });
});

describe("redactText: punctuation after a bare Bearer token or an opaque value after `key`/`token`", () => {
  // An opaque value (the `key`/`token` form redacts only those), built at run time.
  const OPAQUE = ["Zq8", "Lm4Rt7Wp2Xv9Kd3N", "b6Hj"].join("");

  it("keeps what closes the sentence or bracket after the value, not punctuation inside it", () => {
    for (const [text, expected] of [
      [`"token: ${OPAQUE}."`, `"token: ${REDACTED}."`],
      [`the key is ${OPAQUE}. Retry later`, `the key is ${REDACTED}. Retry later`],
      [`(token=${OPAQUE}.)`, `(token=${REDACTED}.)`],
      [`sent Bearer ${OPAQUE}.`, `sent Bearer ${REDACTED}.`],
      [`(with Bearer ${SECRET}.) then`, `(with Bearer ${REDACTED}.) then`],
    ])
      assert.equal(redactText(text), expected);
    // Punctuation inside the value is replaced with it: only the closing run at its end stays.
    assert.equal(redactText(`token: ${OPAQUE}.x next`), `token: ${REDACTED} next`);
    assert.equal(redactText(`Bearer ${SECRET}.tail`), `Bearer ${REDACTED}`);
  });
});
