import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { NormalizedEvent } from "../../src/events/event-types.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import {
  CUT_OFF_REASON,
  emptyReadStats,
  findLogFiles,
  parseEventLine,
  readEvents,
} from "../../src/events/read-events.ts";

const fixtures = fileURLToPath(new URL("../fixtures/events/", import.meta.url));

async function collect(files: string[], options = {}): Promise<NormalizedEvent[]> {
  const events: NormalizedEvent[] = [];
  for await (const event of readEvents(files, options)) events.push(event);
  return events;
}

describe("parseEventLine", () => {
  it("classifies a line that is not JSON, not an object, or has no type as malformed", () => {
    assert.deepEqual(parseEventLine("{oops"), { malformed: "not JSON" });
    assert.deepEqual(parseEventLine("[1]"), { malformed: "not an object" });
    assert.deepEqual(parseEventLine("null"), { malformed: "not an object" });
    assert.deepEqual(parseEventLine('{"ts":"2026-05-01T00:00:00Z","data":{}}'), { malformed: "no type" });
  });

  it("rejects our envelope without a data object or a parseable ts", () => {
    assert.deepEqual(parseEventLine('{"type":"final","ts":"2026-05-01T00:00:00Z","data":3}'), {
      malformed: "no data object",
    });
    assert.deepEqual(parseEventLine('{"type":"final","ts":"soon","data":{}}'), { malformed: "no valid ts" });
  });

  it("counts a rating the quality report would misread as malformed: no good/bad rating, tags not a list", () => {
    const feedback = (data: Record<string, unknown>) =>
      parseEventLine(JSON.stringify({ v: 1, type: "feedback", ts: "2026-05-01T00:00:00Z", requestId: "f", data }));
    assert.deepEqual(feedback({ rating: "meh", ratedRequestId: "r1" }), {
      malformed: 'feedback without rating "good" or "bad"',
    });
    assert.deepEqual(feedback({ rating: "bad", ratedRequestId: "r1", tags: "a,b" }), {
      malformed: "feedback tags not a list of strings",
    });
    assert.deepEqual(feedback({ rating: "good" }), { malformed: "feedback without ratedRequestId" });
    assert.ok("event" in feedback({ rating: "good", ratedRequestId: "r1", tags: ["fast"] }));
  });

  it("reports an envelope of a type no script knows separately from malformed lines", () => {
    assert.deepEqual(parseEventLine('{"v":1,"type":"config-reloaded","ts":"2026-05-01T00:00:00Z","data":{}}'), {
      unknownType: "config-reloaded",
    });
  });

  it("adds the parsed time to a well-formed event and treats a blank line as neither", () => {
    const outcome = parseEventLine(
      '{"v":1,"type":"attempt","ts":"2026-05-01T00:00:01.000Z","requestId":"a","data":{"attempt":1,"target":"x/y"}}',
    );
    assert.ok("event" in outcome);
    assert.equal(outcome.event.time, Date.parse("2026-05-01T00:00:01.000Z"));
    assert.deepEqual(parseEventLine("   "), { blank: true });
  });
});

describe("parseEventLine's figures", () => {
  const final = (data: Record<string, unknown>) =>
    parseEventLine(
      JSON.stringify({
        v: 1,
        type: "final",
        ts: "2026-05-01T00:00:01.000Z",
        requestId: "a",
        data: { outcome: "success", attempts: 1, failovers: 0, latencyMs: 10, failureKinds: [], ...data },
      }),
    );

  it("refuses a cost or time no request has, and takes an unknown one (null: the writer's NaN) or a plausible one", () => {
    for (const costUsd of [1e308, -0.5, "0.5", "NaN"])
      assert.deepEqual(final({ costUsd }), { malformed: "final with costUsd not an amount from 0 to 1,000,000" });
    for (const latencyMs of ["NaN", 1e308])
      assert.deepEqual(final({ latencyMs }), {
        malformed: "final with latencyMs not a number of milliseconds up to 1,000,000,000,000",
      });
    for (const costUsd of [null, undefined, 0, 12.5]) assert.ok("event" in final({ costUsd }), String(costUsd));
    // A wall clock stepped back during the request: written so by the router, kept.
    assert.ok("event" in final({ latencyMs: -40 }));
  });

  it("keeps a result whose usage a provider counted below zero (its request would be lost with a v3 final line)", () => {
    const result = (costUsd: unknown) =>
      parseEventLine(
        JSON.stringify({
          v: 1,
          type: "result",
          ts: "2026-05-01T00:00:01.000Z",
          requestId: "a",
          data: { attempt: 1, target: "a/x", outcome: "success", latencyMs: 5, usage: { input: -200, costUsd } },
        }),
      );
    assert.ok("event" in result(-0.0004));
    assert.deepEqual(result(-1e308), {
      malformed: "result with usage.costUsd not an amount from -1,000,000 to 1,000,000",
    });
  });

  it("keeps a v3 final line whose carried step has an implausible figure, leaving out (null) that figure alone", () => {
    const outcome = parseEventLine(
      JSON.stringify({
        v: 3,
        type: "final",
        ts: "2026-05-01T00:00:01.000Z",
        requestId: "a",
        data: { outcome: "success", servedTarget: "b/y", attempts: 2, failovers: 1, latencyMs: 90, costUsd: 0.5 },
        steps: [
          { type: "attempt", ms: -90, data: { attempt: 1, target: "a/x" } },
          {
            type: "result",
            ms: -60,
            data: { attempt: 1, target: "a/x", outcome: "failed", latencyMs: "NaN", usage: { costUsd: 1e308 } },
          },
          { type: "usage", ms: -60, data: { attempt: 1, target: "a/x", provider: "a", costUsd: -2 } },
          { type: "attempt", ms: -60, data: { attempt: 2, target: "b/y" } },
          { type: "result", ms: -1, data: { attempt: 2, target: "b/y", outcome: "success", latencyMs: 59 } },
          { type: "usage", ms: -1, data: { attempt: 2, target: "b/y", provider: "b", costUsd: 0.5 } },
        ],
      }),
    );
    assert.ok("event" in outcome, JSON.stringify(outcome));
    assert.deepEqual(
      outcome.events?.map((event) => event.type),
      ["attempt", "result", "usage", "attempt", "result", "usage", "final"],
    );
    const [, failed, failedUsage, , served, servedUsage] = (outcome.events ?? []).map(
      (event) => event.data as unknown as Record<string, unknown> & { usage?: Record<string, unknown> },
    );
    assert.deepEqual([failed!.latencyMs, failed!.usage!.costUsd, failedUsage!.costUsd], [null, null, null]);
    assert.deepEqual([served!.latencyMs, servedUsage!.costUsd], [59, 0.5]);
    assert.deepEqual(outcome.droppedFigures, [
      "result with latencyMs not a number of milliseconds up to 1,000,000,000,000",
      "result with usage.costUsd not an amount from -1,000,000 to 1,000,000",
      "usage with costUsd not an amount from 0 to 1,000,000",
    ]);
    // The final's own figure is the line's: still skipped whole, as a v1 final line is.
    const own = parseEventLine(
      JSON.stringify({
        v: 3,
        type: "final",
        ts: "2026-05-01T00:00:01.000Z",
        requestId: "a",
        data: { outcome: "success", attempts: 1, failovers: 0, latencyMs: 9, costUsd: 1e308 },
        steps: [{ type: "attempt", ms: -9, data: { attempt: 1, target: "a/x" } }],
      }),
    );
    assert.deepEqual(own, { malformed: "final with costUsd not an amount from 0 to 1,000,000" });
  });
});

describe("readEvents", () => {
  it("skips and counts every malformed line of a file while yielding the good ones", async () => {
    const stats = emptyReadStats();
    const events = await collect([join(fixtures, "malformed.jsonl")], { stats });
    assert.equal(events.length, 5);
    assert.equal(stats.lines, 13);
    assert.equal(stats.blankLines, 1);
    assert.equal(stats.malformed, 7);
    assert.deepEqual(stats.malformedByReason, {
      "not JSON": 2,
      "not an object": 2,
      "no type": 1,
      "no valid ts": 1,
      "no data object": 1,
    });
    assert.equal(stats.malformedSamples.length, 5);
    assert.match(stats.malformedSamples[0]!, /malformed\.jsonl:2 \(not JSON\)$/);
  });

  it("counts each file's event lines and malformed lines apart, with its first malformed line", async () => {
    const directory = freshDir("auto-router-by-file");
    const notes = join(directory, "notes.md");
    writeFileSync(notes, "# Notes\n\nnot a log\n");
    const stats = emptyReadStats();
    await collect([join(fixtures, "malformed.jsonl"), notes], { stats });
    assert.deepEqual(stats.byFile[join(fixtures, "malformed.jsonl")], {
      eventLines: 5,
      malformed: 7,
      firstMalformed: { line: 2, reason: "not JSON" },
    });
    assert.deepEqual(stats.byFile[notes], {
      eventLines: 0,
      malformed: 2,
      firstMalformed: { line: 1, reason: "not JSON" },
    });
  });

  it("names a last line cut off without its line break, and still reads a complete last line without one", async () => {
    const directory = freshDir("auto-router-cut-off");
    const line = readFileSync(join(fixtures, "ours.jsonl"), "utf8").split("\n")[0]!;
    const cut = join(directory, "cut.jsonl");
    writeFileSync(cut, `${line}\n${line.slice(0, 40)}`);
    const stats = emptyReadStats();
    assert.equal((await collect([cut], { stats })).length, 1);
    assert.deepEqual(stats.malformedByReason, { [CUT_OFF_REASON]: 1 });
    assert.match(stats.malformedSamples[0]!, /cut\.jsonl:2 \(cut off at the end of the file/);

    const whole = join(directory, "whole.jsonl");
    writeFileSync(whole, `{oops\n${line}`); // not JSON mid-file is not "cut off"; a whole last line is an event
    const wholeStats = emptyReadStats();
    assert.equal((await collect([whole], { stats: wholeStats })).length, 1);
    assert.deepEqual(wholeStats.malformedByReason, { "not JSON": 1 });
  });

  it("drops events before `since` and counts them as filtered, not malformed", async () => {
    const stats = emptyReadStats();
    const events = await collect([join(fixtures, "ours.jsonl")], { stats, since: Date.parse("2026-05-03T00:00:00Z") });
    assert.ok(events.every((event) => event.time >= Date.parse("2026-05-03T00:00:00Z")));
    assert.equal(events.length, 8);
    assert.equal(stats.filteredOut, 36);
    assert.equal(stats.malformed, 0);
  });

  it("reads rotated files in the order given, so one request can span the rotation", async () => {
    const files = findLogFiles(fixtures);
    const events = await collect(files);
    assert.deepEqual(
      events.filter((event) => event.requestId === "r-a").map((event) => event.type),
      ["decision", "attempt", "result", "attempt", "result", "final"],
    );
  });

  it("splits lines on LF and CRLF, also a line longer than one read chunk, and reads a last line without a newline", async () => {
    const dir = freshDir("auto-router-read-lines");
    const line = (id: string, text = "") =>
      JSON.stringify({
        v: 1,
        type: "attempt",
        ts: "2026-05-01T00:00:01.000Z",
        requestId: id,
        data: { attempt: 1, target: "x/y", note: text },
      });
    const file = join(dir, "auto-router.events.jsonl");
    writeFileSync(file, `${line("a")}\r\n${line("b", "é".repeat(150_000))}\n${line("c")}`);
    const events = await collect([file]);
    assert.deepEqual(
      events.map((event) => event.requestId),
      ["a", "b", "c"],
    );
    assert.equal((events[1]!.data as unknown as { note: string }).note.length, 150_000);
  });

  it("counts lines of the types a report skips as events without parsing them, in both formats", async () => {
    const dir = freshDir("auto-router-skip-types");
    const file = join(dir, "auto-router.events.jsonl");
    writeFileSync(
      file,
      [
        '{"v":1,"type":"candidates","ts":"2026-05-01T00:00:00.000Z","requestId":"a","data":{"candidates":[],"skipped":[]}}',
        '{"type":"routing.candidates","timestamp":"2026-05-01T00:00:00.000Z","requestId":"b","data":{"candidates":[]}}',
        '{"v":1,"type":"attempt","ts":"2026-05-01T00:00:01.000Z","requestId":"a","data":{"attempt":1,"target":"x/y","why":"{\\"type\\":\\"candidates\\"}"}}',
      ].join("\n"),
    );
    const stats = emptyReadStats();
    const events = await collect([file], { stats, skipTypes: ["candidates"] });
    assert.deepEqual(
      events.map((event) => event.type),
      ["attempt"],
    );
    assert.equal(stats.events, 3);
    assert.equal(stats.legacyEvents, 1);
    const all = await collect([file]);
    assert.deepEqual(
      all.map((event) => event.type),
      ["candidates", "candidates", "attempt"],
    );
  });

  it("rejects with the file's error when a file cannot be read", async () => {
    await assert.rejects(collect([join(tmpdir(), "no-such-dir-auto-router", "x.jsonl")]), { code: "ENOENT" });
  });
});

describe("findLogFiles", () => {
  it("lists a directory's rotated logs oldest first (numeric order), then the live log", () => {
    const directory = freshDir("auto-router-find");
    for (const name of [
      "auto-router.events.jsonl",
      "auto-router.events.1.jsonl",
      "auto-router.events.2.jsonl",
      "auto-router.events.10.jsonl",
      "auto-router.usage.json",
      "other.1.jsonl",
    ]) {
      writeFileSync(join(directory, name), "");
    }
    assert.deepEqual(
      findLogFiles(directory).map((file) => file.slice(directory.length + 1)),
      [
        "auto-router.events.10.jsonl",
        "auto-router.events.2.jsonl",
        "auto-router.events.1.jsonl",
        "auto-router.events.jsonl",
      ],
    );
  });

  it("returns a given live file with its rotated siblings, and a rotated or unrelated file alone", () => {
    const directory = freshDir("auto-router-find");
    mkdirSync(join(directory, "nested"));
    for (const name of ["custom.jsonl", "custom.1.jsonl", "single.jsonl"]) writeFileSync(join(directory, name), "");
    assert.deepEqual(findLogFiles(join(directory, "custom.jsonl")), [
      join(directory, "custom.1.jsonl"),
      join(directory, "custom.jsonl"),
    ]);
    assert.deepEqual(findLogFiles(join(directory, "custom.1.jsonl")), [join(directory, "custom.1.jsonl")]);
    assert.deepEqual(findLogFiles(join(directory, "single.jsonl")), [join(directory, "single.jsonl")]);
    assert.deepEqual(findLogFiles(join(directory, "nested")), []);
  });
});
