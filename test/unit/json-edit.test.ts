// The passthrough's in-place edit of a client's JSON body: the members it leaves alone keep their bytes, and the
// result always parses to what editing the parsed object would give.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { editJson, topLevelMembers, type JsonEdits } from "../../src/gateway/json-edit.ts";

const TARGET: JsonEdits = { set: { model: "claude-d" }, remove: ["provider"] };

function edited(text: string, edits: JsonEdits = TARGET): string {
  return editJson(Buffer.from(text), JSON.parse(text), edits).toString();
}

/** What editing the parsed object gives (the fallback's result), to compare with. */
function expected(text: string, edits: JsonEdits = TARGET): unknown {
  const copy = { ...JSON.parse(text) };
  for (const key of edits.remove) delete copy[key];
  return { ...copy, ...edits.set };
}

describe("editJson", () => {
  it("keeps the client's bytes, spacing and member order; only the edited members are new", () => {
    const text = '{ "model" : "auto-router/x",\n  "provider": {"only": ["a"]}, "messages": [ {"role":"user"} ] }';
    assert.equal(edited(text), '{"model":"claude-d","messages": [ {"role":"user"} ]}');
  });

  it("adds members to set that the body lacks, at the end", () => {
    assert.equal(
      edited('{"model":"m","messages":[]}', { set: { model: "x", stream: true }, remove: [] }),
      '{"model":"x","messages":[],"stream":true}',
    );
  });

  it("reads through strings with quotes, backslashes, braces and non-ASCII text", () => {
    const text = JSON.stringify({
      system: 'say "}" and \\ then {"model": 1} ünïcode 🎉',
      provider: "p\\",
      model: "auto-router/x",
      tools: [{ name: "a", input_schema: { type: "object", properties: { q: { description: '[{\\"' } } } }],
      temperature: 0.5,
      stop: null,
      stream: true,
    });
    const result = edited(text);
    assert.deepEqual(JSON.parse(result), expected(text));
    assert.ok(result.includes('"system":"say \\"}\\" and \\\\ then {\\"model\\": 1} ünïcode 🎉"'));
  });

  it("recognises an escaped member name and a member given twice", () => {
    assert.deepEqual(JSON.parse(edited('{"mod\\u0065l":"auto-router/x","a":1}')), { model: "claude-d", a: 1 });
    assert.deepEqual(JSON.parse(edited('{"model":"a","provider":1,"model":"b","provider":2}')), { model: "claude-d" });
  });

  it("edits the only member, the first and the last, and an empty object", () => {
    assert.equal(edited('{"provider":{}}'), '{"model":"claude-d"}');
    assert.equal(edited("{}"), '{"model":"claude-d"}');
    assert.equal(edited('{"provider":1,"a":[1,2]}'), '{"a":[1,2],"model":"claude-d"}');
    assert.equal(edited('{"a":-1.5e3,"provider":true}'), '{"a":-1.5e3,"model":"claude-d"}');
  });

  it("serialises the parsed body when there are no bytes or they are not one JSON object", () => {
    const parsed = { model: "m", provider: 1, a: 1 };
    assert.deepEqual(JSON.parse(editJson(undefined, parsed, TARGET).toString()), { a: 1, model: "claude-d" });
    for (const bad of ["[1]", '{"a":1', '{"a":1} x', '{"a" 1}', '{"a":"x}'])
      assert.deepEqual(JSON.parse(editJson(Buffer.from(bad), parsed, TARGET).toString()), { a: 1, model: "claude-d" });
  });

  it("lists the top-level members with their byte ranges", () => {
    const bytes = Buffer.from('{"a":{"b":"}"},"c":[1]}');
    assert.deepEqual(
      topLevelMembers(bytes).map(({ key, start, end }) => [key, bytes.toString("utf8", start, end)]),
      [
        ["a", '"a":{"b":"}"}'],
        ["c", '"c":[1]'],
      ],
    );
  });
});
