// A UTF-8 byte order mark (EF BB BF, U+FEFF), as Windows editors write at the start of a file, is no part of the
// content: the shared readers of JSON documents (routes file, state and legacy files) and of event log lines read the
// text as if it had none, and the positions they name are those of the text without it (what an editor shows).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { routerFileAt } from "../../src/analytics/report-path.ts";
import { parseConfigText } from "../../src/config/parse-config.ts";
import { parseEventLine } from "../../src/events/read-events.ts";
import { JsonTextError, parseJsonText } from "../../src/state/json-text.ts";
import { decodeState } from "../../src/state/state-file.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const BOM = "\ufeff";
const ROUTES = '{"routes": {"main": {"targets": [{"provider": "mock-a", "modelId": "model-a"}]}}}';

function jsonTextError(text: string): JsonTextError {
  try {
    parseJsonText(text);
  } catch (error) {
    assert.ok(error instanceof JsonTextError);
    return error;
  }
  assert.fail(`parsed: ${text}`);
}

describe("a byte order mark at the start of a file", () => {
  it("is skipped by the JSON text reader of state and legacy files, positions as without it", () => {
    assert.deepEqual(parseJsonText(`${BOM}{"v": 1, "targets": {}}\r\n`), { v: 1, targets: {} });
    const broken = jsonTextError(`${BOM}{"a": }`);
    assert.deepEqual([broken.message, broken.line, broken.column], ["not valid JSON: Unexpected token '}'", 1, 7]);
    assert.equal(jsonTextError(`${BOM}\n`).message, "empty file");
  });

  it("is skipped when a state file is decoded, positions as without it", () => {
    const options = { parse: (raw: unknown) => raw };
    assert.deepEqual(decodeState(`${BOM}{"v": 1}`, options), { ok: true, value: { v: 1 } });
    assert.deepEqual(decodeState(`${BOM}{"v": }`, options), {
      ok: false,
      reason: "invalid JSON at line 1, column 7: Unexpected token '}'",
    });
  });

  it("is skipped in the routes file, every issue at the line and column it has without the mark", () => {
    const parsed = parseConfigText(BOM + ROUTES);
    assert.deepEqual(parsed.issues, []);
    assert.equal(parsed.config?.routes.main?.targets[0]?.provider, "mock-a");
    for (const text of ['{"routes": {"main": {"targets": [1,]}}}', '{"routes": {"main": {"targetz": []}}}'])
      assert.deepEqual(parseConfigText(BOM + text).issues, parseConfigText(text).issues);
    assert.deepEqual(
      parseConfigText(`${BOM}{"routes": {"main": {"targets": [1,]}}}`).issues.map((issue) => [
        issue.line,
        issue.column,
      ]),
      [[1, 36]],
    );
  });

  it("is skipped on an event log's first line", () => {
    const ours =
      '{"v":1,"type":"decision","ts":"2026-05-01T09:00:00.000Z","requestId":"r1","routeId":"main","data":{"requestedRouteId":"main","routeId":"main","intent":"code"}}';
    const outcome = parseEventLine(BOM + ours);
    assert.ok("event" in outcome, JSON.stringify(outcome));
    assert.deepEqual([outcome.event.type, outcome.event.requestId], ["decision", "r1"]);
  });

  it("does not hide an event log under another name from a report's --output", () => {
    const file = join(freshDir("auto-router-bom-output"), "copy.jsonl");
    writeFileSync(
      file,
      `${BOM}{"v":1,"type":"quota","ts":"2026-05-01T08:00:00.000Z","routeId":null,"data":{"provider":"anthropic"}}\n`,
    );
    assert.equal(routerFileAt(file), "it holds event log lines");
  });
});
