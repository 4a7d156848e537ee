// Tables in the TUI's listing component at the terminal's width: the left-most columns that fit, each row on one line,
// and a note naming the columns left out; every column where the terminal is wide enough, and a wrapped table where
// not even the first column fits. Other lines (help, notices) wrap as before.
import assert from "node:assert/strict";
import { it } from "node:test";
import { table } from "../../src/commands/format.ts";
import { listingComponent } from "../../src/ui/listing-widget.ts";

const HEADERS = ["#", "target", "provider/model", "auth", "availability", "ttft", "$/1M in/out"];
const LISTING = [
  "auto-router/chain — Chain (sortBy config)",
  ...table(HEADERS, [
    ["1", "model-a", "mock-a/model-a", "API key", "cooldown 59s (rate_limit)", "412 ms (earlier router)", "0.15/0.60"],
    ["2", "model-b", "mock-b/model-b", "API key", "ready", "-", "3.00/15.00"],
  ]).split("\n"),
  "",
  "  switch <route|alias|provider/model>  Switch pi to an auto-router route (by id or alias) or straight to one provider/model",
];
const FULL_ROW = LISTING[2]!;

const words = (text: string) => text.replace(/\s+/g, " ").trim();
/** The rendered lines without pi's one-column margin. */
const render = (width: number) =>
  listingComponent(LISTING)
    .render(width)
    .map((line) => line.slice(1));

it("shows every column at 200 columns; at 80 drops the right-most that do not fit, each row on one line, and names them", () => {
  assert.ok(FULL_ROW.length > 80, "the table is wider than an 80-column terminal");
  assert.deepEqual(render(200), LISTING, "every column, no note");

  const shown = render(80);
  assert.equal(shown[0], LISTING[0]);
  assert.match(shown[1]!, /^# +target +provider\/model +auth +availability$/);
  assert.match(shown[2]!, /^1 +model-a +mock-a\/model-a +API key +cooldown 59s \(rate_limit\)$/);
  assert.match(shown[3]!, /^2 +model-b +mock-b\/model-b +API key +ready$/);
  assert.equal(shown[4], "(not shown: ttft, $/1M in/out; a wider terminal or pi -p shows every column)");
  assert.equal(shown[5], "", "the blank line after the table");
  for (const line of shown) assert.ok(line.length <= 79, line);
});

it("keeps fewer columns at 50 and only the first ones that fit at 20; prose and a too-narrow table still wrap", () => {
  const at50 = render(50);
  assert.match(at50[1]!, /^# +target +provider\/model +auth$/);
  assert.match(at50[2]!, /^1 +model-a +mock-a\/model-a +API key$/);
  assert.match(words(at50.slice(4).join(" ")), /^\(not shown: availability, ttft, \$\/1M in\/out; a wider terminal/);
  for (const line of at50) assert.ok(line.length <= 49, line);
  // The help line is no table: it wraps, nothing dropped.
  assert.ok(words(at50.join(" ")).endsWith(words(LISTING.at(-1)!)), "every word of the help line");

  const at20 = render(20);
  const header = at20.indexOf("#  target");
  assert.deepEqual(at20.slice(header, header + 3), ["#  target", "1  model-a", "2  model-b"], at20.join("\n"));
  assert.match(
    words(at20.slice(header + 3).join(" ")),
    /^\(not shown: provider\/model, auth, availability, ttft, \$\/1M/,
  );
  for (const line of at20) assert.ok(line.length <= 19, line);

  // A table whose first column alone does not fit wraps as before: nothing left out, no note.
  const lines = table(["provider/model", "auth"], [["a-rather-long-provider/some-model-id", "API key"]]).split("\n");
  const wrapped = listingComponent(lines)
    .render(20)
    .map((line) => line.slice(1));
  assert.ok(
    wrapped.every((line) => !line.startsWith("(not shown")),
    wrapped.join("\n"),
  );
  assert.ok(wrapped.join(" ").includes("API key"), "the second column is still there, wrapped");
});

it("fits budget's table whole at 60 and 40 columns: a `month` row (empty first cell) stays a row above the note", () => {
  const lines = [
    "budgets: today 2026-12-05, month 2026-12 (UTC); policy block",
    ...table(
      ["provider", "period", "spent", "limit", "used", "requests"],
      [
        ["mock-a", "today", "$0.0001", "$0.0001 (config)", "141% BLOCKED", "1"],
        ["", "month", "$0.0001", "-", "-", "1"],
        ["mock-b", "today", "$0.000052", "-", "-", "2"],
        ["", "month", "$0.000052", "-", "-", "2"],
      ],
    ).split("\n"),
  ];
  for (const width of [60, 40]) {
    const shown = listingComponent(lines)
      .render(width)
      .map((line) => line.slice(1));
    const header = shown.findIndex((line) => line.startsWith("provider  period"));
    const note = shown.findIndex((line) => line.startsWith("(not shown: "));
    assert.equal(note, header + 5, `the note under all five lines of the table:\n${shown.join("\n")}`);
    assert.match(shown[header + 2]!, /^ +month +\$0\.0001( |$)/, shown.join("\n"));
    assert.match(shown[header + 4]!, /^ +month +\$0\.000052/, shown.join("\n"));
    for (const line of shown) assert.ok(line.length <= width - 1, line);
  }
});

it("fits health's indented tables, one per provider, and wraps the quota source line under itself", () => {
  const targets = (provider: string) =>
    table(
      ["  target", "model", "credentials", "cooldown", "breaker", "probe"],
      [[`  ${provider}/model-a`, "yes", "api-key", "-", "closed", "failed 401 auth 12 ms: invalid key"]],
    ).split("\n");
  const lines = [
    "mock-a: healthy; credentials api-key",
    "  quota source: none (pacing from response headers and budgets only)",
    ...targets("mock-a"),
    "mock-b: healthy; credentials api-key",
    ...targets("mock-b"),
  ];
  const shown = listingComponent(lines)
    .render(60)
    .map((line) => line.slice(1));
  const notes = shown.filter((line) => line.startsWith("(not shown: "));
  assert.equal(notes.length, 2, `a note under each provider's table:\n${shown.join("\n")}`);
  for (const note of notes) assert.match(note, /^\(not shown: probe;/);
  assert.ok(shown.includes("  target          model  credentials  cooldown  breaker"), shown.join("\n"));
  assert.ok(shown.includes("  mock-b/model-a  yes    api-key      -         closed"), shown.join("\n"));
  assert.deepEqual(shown.slice(1, 3), ["  quota source: none (pacing from response headers and", "    budgets only)"]);
  for (const line of shown) assert.ok(line.length <= 59, line);
});
