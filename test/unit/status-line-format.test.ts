// The footer status: what is cut when it is too long, and how a typed shortcut differs from a tier guessed from intent.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatStatus, STATUS_MAX_CHARS, StatusLine } from "../../src/ui/status-line.ts";

describe("status line", () => {
  it("shows a typed shortcut as @tier and a tier chosen from intent or a rule as such", () => {
    assert.match(formatStatus({ routeId: "swe", tier: "fast", tierSource: "shortcut", warnings: [] }), /· @fast/);
    const fromIntent = formatStatus({
      routeId: "swe",
      tier: "swe",
      tierSource: "intent",
      intent: "code",
      confidence: 0.8,
      warnings: [],
    });
    assert.doesNotMatch(fromIntent, /@swe/);
    assert.match(fromIntent, /tier swe \(intent\)/);
    assert.match(
      formatStatus({ routeId: "swe", tier: "long", tierSource: "rule", warnings: [] }),
      /tier long \(rule\)/,
    );
  });

  it("keeps a warning whole when the line is too long, dropping the intent guess first", () => {
    const text = formatStatus({
      routeId: "swe",
      tier: "fast",
      tierSource: "shortcut",
      intent: "analysis",
      confidence: 0.91,
      servedKey: "deepseek/deepseek-chat",
      failovers: 2,
      warnings: ["budget fallback"],
    });
    assert.ok(text.length <= STATUS_MAX_CHARS, text);
    assert.equal(
      text,
      "⇄ swe · ⚠ budget fallback · → deepseek/deepseek-chat (2 failovers) · @fast",
      "the intent guess is dropped first",
    );
  });

  it("shortens a route id too long for a narrow footer, keeping its marks and a count of its warnings", () => {
    const view = { routeId: "a-long-route-name-for-work", marks: ["🔬 shadow"], warnings: ["budget alpha blocked"] };
    assert.equal(formatStatus(view, 38), "⇄ a-long-route-name… · 🔬 shadow · ⚠ 1");
    assert.equal(formatStatus({ ...view, warnings: [] }, 40), "⇄ a-long-route-name-for-work · 🔬 shadow");
    // Room enough: nothing shortened.
    assert.equal(formatStatus(view, 78), "⇄ a-long-route-name-for-work · 🔬 shadow · ⚠ budget alpha blocked");
  });

  it("shows the warnings that fit whole and counts the rest, never cutting one mid-word", () => {
    const text = formatStatus({
      routeId: "main",
      marks: ["team store down"],
      servedKey: "deepseek/gamma-1",
      warnings: [
        "budget alpha 100% blocked",
        "quota stressed alpha 1.6",
        "quota critical beta 2.4",
        "breaker open gamma",
      ],
    });
    assert.ok(text.length <= STATUS_MAX_CHARS, text);
    // The served target does not fit whole beside a warning: it goes rather than be cut (`→ deepseek/gam…`).
    assert.equal(text, "⇄ main · team store down · ⚠ budget alpha 100% blocked +3 more");
  });

  it("counts warnings none of which fits in the singular for one, the plural for more", () => {
    const long = "budget mock-a blocked: a request's estimate ~$0.026 does not fit the $0.008 left";
    const view = { routeId: "main", servedKey: "mock-b/model-b", warnings: [long] };
    assert.equal(formatStatus(view), "⇄ main · ⚠ 1 warning · → mock-b/model-b");
    assert.equal(formatStatus({ ...view, warnings: [long, long] }), "⇄ main · ⚠ 2 warnings · → mock-b/model-b");
  });

  it("fits a terminal narrower than its cap by dropping its least important parts, and follows a resize", () => {
    const view = {
      routeId: "other",
      servedKey: "mock-b/model-b",
      tier: "fast",
      tierSource: "shortcut" as const,
      intent: "general",
      confidence: 0.5,
      warnings: ["budget mock-b 94%"],
    };
    assert.equal(formatStatus(view), "⇄ other · ⚠ budget mock-b 94% · → mock-b/model-b · @fast · general 0.50");
    // 60 columns: the intent, then the tier go; the served target stays whole.
    assert.equal(formatStatus(view, 58), "⇄ other · ⚠ budget mock-b 94% · → mock-b/model-b · @fast");
    assert.equal(formatStatus(view, 50), "⇄ other · ⚠ budget mock-b 94% · → mock-b/model-b");
    let columns: number | undefined = 120;
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
      undefined,
      () => [],
      () => true,
      () => columns,
    );
    status.select("other");
    status.onFinished("other", "success", "mock-b/model-b", 0);
    assert.equal(published.at(-1), "⇄ other · → mock-b/model-b");
    columns = 28; // two columns are kept free of pi's cut
    status.render();
    assert.equal(published.at(-1), "⇄ other · → mock-b/model-b");
    columns = 24;
    status.render();
    assert.equal(published.at(-1), "⇄ other", "the served target goes whole rather than cut (`→ mock-b/mo…`)");
  });

  it("keeps the warnings whole and shortens what is happening at a word or a `/`, never inside a name", () => {
    const text = formatStatus({
      routeId: "route",
      phase: `failing over → provider/${"m".repeat(80)}`,
      warnings: ["breaker open alpha", "budget fallback"],
    });
    assert.equal(text, "⇄ route · ⚠ breaker open alpha, budget fallback · failing over → provider/…");
    // A wait for a quota reset stays in the line (the quota-pacing test's case), shortened where it must be.
    const waiting = {
      routeId: "solo",
      phase: "waiting 20s for anthropic/claude-faux",
      warnings: ["quota critical anthropic used up"],
    };
    assert.equal(formatStatus(waiting), "⇄ solo · ⚠ quota critical anthropic used up · waiting 20s for anthropic/…");
    assert.equal(formatStatus(waiting, 60), "⇄ solo · ⚠ quota critical anthropic used up · waiting 20s…");
    assert.equal(
      formatStatus(waiting, 120),
      "⇄ solo · ⚠ quota critical anthropic used up · waiting 20s for anthropic/claude-faux",
    );
  });

  it("drops how a request ended whole rather than shortening it to `no…` beside long warnings", () => {
    const view = {
      routeId: "chain",
      phase: "no target served",
      warnings: ["budget mock-a 407400% blocked", "budget mock-b 23400% blocked"],
    };
    // Before: "⇄ chain · ⚠ budget mock-a 407400% blocked, budget mock-b 23400% blocked · no…" in an 80-column terminal.
    assert.equal(formatStatus(view), "⇄ chain · ⚠ budget mock-a 407400% blocked, budget mock-b 23400% blocked");
    assert.equal(formatStatus(view, 100), `${formatStatus(view)} · no target served`);
  });

  it("leaves the served target its room beside the warnings, and drops it before folding them (40 and 60 columns)", () => {
    const view = {
      routeId: "chain",
      warnings: ["budget mock-a 141% blocked"],
      servedKey: "mock-b/model-b",
      failovers: 1,
      intent: "general",
      confidence: 0.5,
    };
    // 60 columns with shadow on: the intent goes, the warning and the served target stay whole (was `→ mo…`).
    assert.equal(
      formatStatus({ ...view, marks: ["🔬 shadow"] }, 58),
      "⇄ chain · 🔬 shadow · ⚠ budget mock-a 141% blocked",
      "the served target does not fit whole beside the whole warning: it goes",
    );
    assert.equal(
      formatStatus({ ...view, marks: ["🔬 shadow"] }, 100),
      "⇄ chain · 🔬 shadow · ⚠ budget mock-a 141% blocked · → mock-b/model-b (1 failover) · general 0.50",
    );
    // 40 columns: the served target goes for the whole warning (never `blocke…`); two are counted.
    assert.equal(formatStatus(view, 38), "⇄ chain · ⚠ budget mock-a 141% blocked");
    assert.equal(
      formatStatus({ ...view, warnings: [...view.warnings, "breaker open mock-a"] }, 38),
      "⇄ chain · ⚠ 2 warnings",
    );
    assert.equal(formatStatus(view, 20), "⇄ chain · ⚠ 1", "the count alone where not even `⚠ 1 warning` fits");
    for (const max of [20, 24, 30, 38, 44, 50, 58])
      for (const marks of [[], ["🔬 shadow"]]) {
        const text = formatStatus({ ...view, marks }, max);
        assert.ok(text.length <= max, text);
        const words = new Set(formatStatus({ ...view, marks }, 200).split(" "));
        assert.ok(
          text
            .replace(/…$/, "")
            .split(" ")
            .every((word) => words.has(word) || /^\d+$|^warnings?$/.test(word)),
          `no word cut: ${text}`,
        );
        assert.ok(
          text
            .replace(/…$/, "")
            .split(" · ")
            .every((part) => ["⇄ chain", ...marks].includes(part) || /^⚠( |$)|^→ |^general /.test(part)),
          text,
        );
        assert.ok(!/→/.test(text) || text.includes("→ mock-b/model-b (1 failover)"), text);
        assert.ok(!/⚠ budget/.test(text) || text.includes("⚠ budget mock-a 141% blocked"), text);
      }
  });

  it("drops who served rather than fold a warning that fits without it", () => {
    const line = formatStatus({
      routeId: "chain",
      marks: ["🔬 shadow"],
      warnings: ["budget emu-a 173% blocked", "budget fallback"],
      servedKey: "emu-b/model-b",
    });
    assert.equal(line, "⇄ chain · 🔬 shadow · ⚠ budget emu-a 173% blocked, budget fallback");
    // Both fit beside it: kept.
    assert.equal(
      formatStatus({ routeId: "chain", warnings: ["config invalid"], servedKey: "emu-b/model-b" }),
      "⇄ chain · ⚠ config invalid · → emu-b/model-b",
    );
  });
});
