// The component that shows long /auto-router listings in the TUI (a widget on pi 0.73, a chat entry on newer pi): every
// line, none wider than the terminal, wrapped between words.
import assert from "node:assert/strict";
import { it } from "node:test";
import { LISTING_ENTRY_TYPE, listingEntries } from "../../src/ui/listing-entry.ts";
import { listingWidget, wrapLine } from "../../src/ui/listing-widget.ts";

it("renders every line of a listing longer than pi's 10-line widget cap", () => {
  const lines = Array.from({ length: 25 }, (_, index) => `line ${index + 1}`);
  const rendered = listingWidget(lines)().render(80);
  assert.equal(rendered.length, 25);
  assert.equal(rendered.at(-1), " line 25");
});

it("wraps a line wider than the terminal, counting wide characters as two columns", () => {
  const pieces = wrapLine(`${"a".repeat(30)}漢字漢字`, 32);
  assert.deepEqual(pieces, [`${"a".repeat(30)}漢`, "  字漢字"]);
  for (const line of listingWidget([`⇄ ${"x".repeat(200)}`])().render(50)) assert.ok([...line].length <= 50, line);
});

it("wraps at spaces: a wrapped help description continues under itself, never split inside a word", () => {
  const line = `  ${"switch <route|alias|provider/model>".padEnd(38)}  Switch pi to an auto-router route (by id or alias) or straight to one provider/model`;
  const pieces = wrapLine(line, 119);
  assert.deepEqual(pieces, [
    `  ${"switch <route|alias|provider/model>".padEnd(38)}  Switch pi to an auto-router route (by id or alias) or straight to one`,
    `${" ".repeat(42)}provider/model`,
  ]);
  assert.deepEqual(wrapLine(line, 80).slice(1), [
    `${" ".repeat(42)}id or alias) or straight to one`,
    `${" ".repeat(42)}provider/model`,
  ]);
});

it("cuts a word wider than the terminal after a path's `/` or JSON's `,` and `:`, not inside a name", () => {
  const path = "  state directory: /home/someone/.pi/agent/auto-router/state-files/auto-router.cooldowns.json";
  assert.deepEqual(wrapLine(path, 40), [
    "  state directory: /home/someone/.pi/",
    "    agent/auto-router/state-files/",
    "    auto-router.cooldowns.json",
  ]);
  const json = '  {"routes":{"main":{"targets":[{"provider":"mock-a","modelId":"model-a"}]}}}';
  const pieces = wrapLine(json, 36);
  assert.deepEqual(pieces, [
    '  {"routes":{"main":{"targets":',
    '    [{"provider":"mock-a","modelId":',
    '    "model-a"}]}}}',
  ]);
  assert.equal(pieces.map((piece) => piece.trim()).join(""), json.trim(), "nothing lost");
});

it("moves a table's last cell whole to the next line, indented, when the row is wider than the terminal", () => {
  const row = `  mock-b/model-b${" ".repeat(17)}Model B${" ".repeat(12)}yes${" ".repeat(10)}128k    1.00/2.00    chain,other`;
  const pieces = wrapLine(row, 90);
  assert.equal(pieces.length, 2);
  assert.equal(pieces[1], "    chain,other", "the routes cell is not cut (`chain,othe` / `r`)");
  assert.ok(pieces[0]!.endsWith("1.00/2.00"));
});

it("indents a wrapped line of prose by two spaces more than the line, and keeps every piece within the width", () => {
  const prose = "  Note: a rather long line of prose that has to wrap somewhere in the middle of it";
  const pieces = wrapLine(prose, 30);
  assert.deepEqual(pieces, [
    "  Note: a rather long line of",
    "    prose that has to wrap",
    "    somewhere in the middle of",
    "    it",
  ]);
  for (const width of [12, 20, 33, 57]) {
    for (const piece of wrapLine(prose, width)) assert.ok(piece.length <= width, `${width}: ${piece}`);
    assert.equal(wrapLine(prose, width).join(" ").replace(/\s+/g, " ").trim(), prose.trim(), "no word lost or cut");
  }
});

it("registers a renderer for listing entries where pi has entry renderers, and appends each listing as one entry", () => {
  const renderers = new Map<string, (entry: { data?: unknown }, options: unknown, theme: unknown) => unknown>();
  const appended: Array<[string, unknown]> = [];
  const sink = listingEntries({
    appendEntry: (type, data) => void appended.push([type, data]),
    registerEntryRenderer: (type, renderer) => void renderers.set(type, renderer as never),
  });
  assert.ok(sink);
  const lines = Array.from({ length: 30 }, (_, index) => `line ${index + 1}`);
  sink(lines, "warning");
  assert.deepEqual(appended, [[LISTING_ENTRY_TYPE, { lines, level: "warning", tables: [] }]]);
  const theme = { fg: (color: string, text: string) => `<${color}>${text}` };
  const component = renderers.get(LISTING_ENTRY_TYPE)!({ data: appended[0]![1] }, {}, theme) as {
    render(width: number): string[];
  };
  const rendered = component.render(80);
  assert.equal(rendered.length, 30, "every line: the chat scrolls, nothing is clipped");
  assert.equal(rendered.at(-1), " <warning>line 30");
  assert.equal(renderers.get(LISTING_ENTRY_TYPE)!({ data: { other: 1 } }, {}, theme), undefined, "not a listing");
});

it("fits a resumed entry's tables by where they were found when it was made", () => {
  const renderers = new Map<string, (entry: { data?: unknown }, options: unknown, theme: unknown) => unknown>();
  listingEntries({
    appendEntry: () => {},
    registerEntryRenderer: (type, renderer) => void renderers.set(type, renderer as never),
  });
  // No command made this table in this process, as after a restart: the entry says where it is.
  const lines = ["name     note", "resumed  a note too long for the terminal"];
  const render = (data: unknown) =>
    (
      renderers.get(LISTING_ENTRY_TYPE)!({ data }, {}, { fg: (_color: string, text: string) => text }) as {
        render(width: number): string[];
      }
    ).render(30);
  assert.deepEqual(render({ lines, tables: [{ start: 0, end: 2, cellStarts: [9] }] }), [
    " name",
    " resumed",
    " (not shown: note; a wider",
    "   terminal or pi -p shows",
    "   every column)",
  ]);
  assert.ok(
    !render({ lines, tables: [{ start: "0" }] }).some((line) => line.includes("not shown")),
    "bad tables: none",
  );
});

it("leaves listings to the widget on a pi without entry renderers (0.73)", () => {
  assert.equal(listingEntries({ appendEntry: () => assert.fail("no entry on 0.73") }), undefined);
});
