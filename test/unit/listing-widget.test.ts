// The component that shows long /auto-router listings in the TUI: every line, none wider than the terminal.
import assert from "node:assert/strict";
import { it } from "node:test";
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
