// The README's JSON examples are pasted by users as written: each must be valid JSON (a `//` note in one made the
// first routes file a newcomer writes invalid), and its routes file example must load as it stands.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { parseConfigText } from "../../src/config/parse-config.ts";
import { REPO_ROOT } from "../helpers/agent-dir.ts";

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

/** Every fenced block whose language says JSON, with the line it starts on. */
function jsonBlocks(): Array<{ line: number; language: string; text: string }> {
  const blocks: Array<{ line: number; language: string; text: string }> = [];
  const lines = README.split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    const open = /^```(json\w*)\s*$/.exec(lines[index]!);
    if (!open) continue;
    const end = lines.findIndex((line, at) => at > index && line.startsWith("```"));
    blocks.push({ line: index + 1, language: open[1]!, text: lines.slice(index + 1, end).join("\n") });
    index = end;
  }
  return blocks;
}

it('has only JSON examples that are valid JSON as written (no comments, no bare `"key": value` fragments)', () => {
  const blocks = jsonBlocks();
  assert.ok(blocks.length >= 8, `found ${blocks.length} JSON blocks`);
  for (const block of blocks) {
    assert.equal(
      block.language,
      "json",
      `README.md:${block.line} is marked ${block.language}: a file pasted from it is JSON`,
    );
    assert.doesNotThrow(() => JSON.parse(block.text), `README.md:${block.line} is not valid JSON:\n${block.text}`);
  }
});

it('has a routes file example under "Your own routes" that loads without an error', () => {
  const start = README.indexOf("Your own routes live in");
  const example = jsonBlocks().find((block) => README.split("\n").slice(0, block.line).join("\n").length > start);
  assert.ok(example, "a JSON block after the routes file's location");
  const result = parseConfigText(example.text);
  assert.deepEqual(
    result.issues.filter((issue) => issue.severity === "error"),
    [],
  );
  assert.deepEqual(Object.keys(result.config!.routes), ["my-coding"]);
});
