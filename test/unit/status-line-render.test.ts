// The footer is repainted once per turn of the event loop, with the latest view, however many callbacks came in it.
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, it } from "node:test";
import type { Candidate, Decision } from "../../src/routing/types.ts";
import { StatusLine } from "../../src/ui/status-line.ts";

const candidate = { key: "a/x" } as Candidate;

describe("status line rendering", () => {
  it("shows a quick request's attempt, commit and end once, as its end, at once", async () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
    );
    status.onAttempt("main", candidate, 1);
    status.onCommitted("main", candidate);
    assert.deepEqual(published, [], "attempt and commit wait for the end of the turn");
    status.onFinished("main", "success", "a/x", 0);
    assert.deepEqual(published, ["⇄ main · → a/x"]);
    await nextTurn();
    assert.deepEqual(published, ["⇄ main · → a/x"], "the pending repaint was dropped");
  });

  it("names the target whose answer broke off after it started as cut off, until the next answer commits", () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
    );
    status.onAttempt("main", candidate, 1);
    status.onCommitted("main", candidate);
    status.onFinished("main", "failed", "a/x", 0);
    assert.deepEqual(published, ["⇄ main · → a/x cut off"]);
    status.onPromptStart(); // each request here is a prompt of its own: the line counts a prompt's failovers
    status.onFinished("main", "failed", undefined, 2);
    assert.equal(published.at(-1), "⇄ main · no target served", "a failure before any answer names no target");
    status.onPromptStart();
    status.onCommitted("main", candidate);
    status.onFinished("main", "success", "a/x", 0);
    assert.equal(published.at(-1), "⇄ main · → a/x");
  });

  it("shows the current request's failovers from its commit on, not the previous request's", async () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
    );
    const other = { key: "b/y" } as Candidate;
    status.onAttempt("main", candidate, 1);
    status.onAttempt("main", other, 2);
    status.onCommitted("main", other);
    await nextTurn();
    assert.equal(published.at(-1), "⇄ main · → b/y (1 failover)", "while the answer streams");
    status.onFinished("main", "success", "b/y", 1);
    // The next prompt's request goes straight to b/y (a/x is cooling): no failover, while it streams as after it.
    status.onPromptStart();
    status.onAttempt("main", other, 1);
    status.onCommitted("main", other);
    await nextTurn();
    assert.equal(published.at(-1), "⇄ main · → b/y");
    status.onFinished("main", "success", "b/y", 0);
    // Trying the same target again (a retry, a try after waiting for it) is no failover.
    status.onPromptStart();
    status.onAttempt("main", other, 1);
    status.onAttempt("main", other, 2);
    status.onAttempt("main", candidate, 3);
    status.onCommitted("main", candidate);
    await nextTurn();
    assert.equal(published.at(-1), "⇄ main · → a/x (1 failover)");
  });

  it("shows each step of a request whose steps come in separate turns", async () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
    );
    status.onAttempt("main", candidate, 1);
    await nextTurn();
    status.onCommitted("main", candidate);
    await nextTurn();
    assert.deepEqual(published, ["⇄ main · → a/x…", "⇄ main · → a/x"]);
  });

  it("works a decision's warnings out once, when the line is built, and never while no line is shown", () => {
    const published: Array<string | undefined> = [];
    let shown = false;
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
      undefined,
      () => [],
      () => shown,
    );
    const decision = {
      requestedRouteId: "main",
      candidates: [{ ...candidate, warnings: ["budget a 85%"] }],
      skipped: [{ key: "b/y", provider: "b", reason: "circuit-open" }],
      trace: { intent: "code", intentConfidence: 0.5, tierSource: "none" },
    } as unknown as Decision;
    let built = 0;
    const warnings = () => {
      built += 1;
      return ["quota stressed a"];
    };
    status.onDecision(decision, warnings);
    status.onFinished("main", "success", "a/x", 0);
    assert.equal(built, 0, "nothing shows the line: the plugins' warnings are not asked for");
    assert.deepEqual(published, []);

    shown = true;
    status.onDecision(decision, warnings);
    status.onFinished("main", "success", "a/x", 0);
    status.text();
    status.text();
    assert.equal(built, 1, "asked once per decision, however often the line is built");
    // The plugins' warnings as they are now; the candidate's own, from when the request was routed, are not repeated.
    assert.match(published[0]!, /⚠ quota stressed a, breaker open b · /);
    assert.doesNotMatch(published[0]!, /budget a 85%/);
    assert.equal(status.text(), published[0]);
  });

  it("reads the plugins' warnings again when the request ends, after its cost is booked", () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
      undefined,
      () => [],
      () => true,
    );
    let share = 94;
    status.onDecision(
      {
        requestedRouteId: "main",
        routeId: "main",
        candidates: [candidate],
        skipped: [],
        trace: {},
      } as unknown as Decision,
      () => [`budget a ${share}%`],
    );
    status.onAttempt("main", candidate, 1);
    assert.match(status.text(), /⚠ budget a 94%/);
    share = 141; // the request's cost was booked
    status.onFinished("main", "success", "a/x", 0);
    assert.match(published.at(-1)!, /⚠ budget a 141% · → a\/x/);
  });

  it("drops a pending repaint when the line is cleared (another model was selected)", async () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
    );
    status.onAttempt("main", candidate, 1);
    status.clear();
    await nextTurn();
    assert.deepEqual(published, [undefined]);
  });

  it("counts a prompt's failovers over its requests, from none at the next prompt", () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
    );
    status.onPromptStart();
    status.onAttempt("main", candidate, 1);
    status.onFinished("main", "success", "a/x", 1);
    // A tool turn of the same prompt: no failover of its own, the prompt's one still shown, while it answers too.
    status.onAttempt("main", candidate, 1);
    status.onCommitted("main", candidate);
    assert.equal(status.text(), "⇄ main · → a/x (1 failover)");
    status.onFinished("main", "success", "a/x", 0);
    assert.equal(published.at(-1), "⇄ main · → a/x (1 failover)");
    status.onPromptStart();
    status.onAttempt("main", candidate, 1);
    status.onFinished("main", "success", "a/x", 0);
    assert.equal(published.at(-1), "⇄ main · → a/x");
  });

  it("forgets the route's last request when the line is cleared: the route selected again shows none of it", () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
    );
    status.onAttempt("main", candidate, 1);
    status.onFinished("main", "success", "a/x", 1);
    assert.equal(published.at(-1), "⇄ main · → a/x (1 failover)");
    status.clear(); // a model chosen directly
    status.select("main");
    assert.deepEqual(published.slice(-2), [undefined, "⇄ main"]);
  });

  it("builds no text while nothing shows a status line, and shows the current view once something does", () => {
    const published: Array<string | undefined> = [];
    let shown = false;
    let built = 0;
    const marks = () => {
      built++;
      return [];
    };
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
      undefined,
      marks,
      () => shown,
    );
    status.onAttempt("main", candidate, 1);
    status.onFinished("main", "success", "a/x", 0);
    assert.deepEqual([published, built], [[], 0]);
    shown = true;
    status.render();
    assert.deepEqual([published, built], [["⇄ main · → a/x"], 1]);
  });

  it("names the route selected in pi at once and drops what it said about another route's last request", () => {
    const published: Array<string | undefined> = [];
    const status = new StatusLine(
      (text) => published.push(text),
      () => 0,
    );
    status.select("chain");
    assert.deepEqual(published, ["⇄ chain"], "not `⇄ auto-router` before the first request");
    const decision = {
      requestedRouteId: "chain",
      routeId: "chain",
      candidates: [candidate],
      skipped: [],
      trace: { tier: "reasoning", tierSource: "intent", intent: "analysis", intentConfidence: 0.63 },
    } as unknown as Decision;
    status.onDecision(decision, () => ["budget a 85%"]);
    status.onFinished("chain", "success", "a/x", 0);
    assert.equal(published.at(-1), "⇄ chain · ⚠ budget a 85% · → a/x · tier reasoning (intent) · analysis 0.63");
    status.select("other");
    assert.equal(published.at(-1), "⇄ other");
    status.refreshWarnings();
    assert.equal(status.text(), "⇄ other", "chain's decision warnings do not come back after a command");
    status.select("other");
    assert.equal(published.at(-1), "⇄ other");
  });

  it("keeps the line's request details when the route selected again is the one they are about", () => {
    const status = new StatusLine(
      () => {},
      () => 0,
    );
    status.select("chain");
    status.onAttempt("chain", candidate, 1);
    status.onFinished("chain", "success", "a/x", 0);
    status.select("chain");
    assert.equal(status.text(), "⇄ chain · → a/x");
  });

  it("shows the route a tier moved the request to after the selected route, until a request stays on it", () => {
    const status = new StatusLine(
      () => {},
      () => 0,
    );
    status.select("chain");
    const onRoute = (routeId: string, tier?: string) =>
      ({
        requestedRouteId: "chain",
        routeId,
        candidates: [],
        skipped: [],
        trace: { tier, tierSource: tier ? "shortcut" : "none" },
      }) as unknown as Decision;
    status.onDecision(onRoute("other", "reasoning"));
    status.onFinished("chain", "success", "a/x", 0);
    assert.equal(status.text(), "⇄ chain -> other · → a/x · @reasoning");
    status.onDecision(onRoute("chain"));
    status.onFinished("chain", "success", "a/x", 0);
    assert.equal(status.text(), "⇄ chain · → a/x");
  });
});
