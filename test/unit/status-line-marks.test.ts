import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatStatus, StatusLine } from "../../src/ui/status-line.ts";

describe("status line marks", () => {
  it("puts shadow and UVI-hard marks right after the route, before the warnings", () => {
    assert.equal(
      formatStatus({ routeId: "swe", marks: ["🔬 shadow", "🛡️ uvi-hard"], warnings: ["budget x 85%"] }),
      "⇄ swe · 🔬 shadow · 🛡️ uvi-hard · ⚠ budget x 85%",
    );
    assert.equal(formatStatus({ routeId: "swe", warnings: [] }), "⇄ swe");
  });

  it("asks for the marks on every render, so switching a mode shows at once", () => {
    const published: (string | undefined)[] = [];
    let marks: string[] = [];
    const line = new StatusLine(
      (text) => published.push(text),
      () => 0,
      undefined,
      () => marks,
    );
    line.render();
    marks = ["🔬 shadow"];
    line.render();
    assert.deepEqual(published, ["⇄ auto-router", "⇄ auto-router · 🔬 shadow"]);
  });

  it("shows a mode a command switched and the standing warnings before the route's first request", () => {
    const published: (string | undefined)[] = [];
    let marks: string[] = [];
    let standing: string[] = ["budget x 120% blocked"];
    const line = new StatusLine(
      (text) => published.push(text),
      () => 0,
      undefined,
      () => marks,
    );
    line.setStandingWarnings(() => standing);
    line.select("swe");
    marks = ["🔬 shadow"];
    // What a command calls after it ran (`/auto-router shadow enable`, `budget clear`): no request was made yet.
    line.refreshWarnings();
    standing = [];
    line.refreshWarnings();
    assert.deepEqual(published, [
      "⇄ swe · ⚠ budget x 120% blocked",
      "⇄ swe · 🔬 shadow · ⚠ budget x 120% blocked",
      "⇄ swe · 🔬 shadow",
    ]);
  });
});
