import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseConfigText } from "../../src/config/parse-config.ts";
import type { RouterConfig } from "../../src/config/schema.ts";
import type { NormalizedEvent } from "../../src/events/event-types.ts";
import { findLogFiles, readEvents } from "../../src/events/read-events.ts";
import { invalidConfigText } from "../../src/analytics/cli-commands.ts";
import { formatReplayReport } from "../../src/analytics/replay-format.ts";
import { replayDecisions, shortcutsFromTokens, type RouteFunction } from "../../src/analytics/replay.ts";
import { joinRequests } from "../../src/analytics/request-join.ts";
import { route } from "../../src/routing/route.ts";
import type { Decision, RouteRequest, RoutingSnapshot } from "../../src/routing/types.ts";

const fixture = fileURLToPath(new URL("../fixtures/events/ours.jsonl", import.meta.url));
const itemsOf = (path: string) => joinRequests(readEvents(findLogFiles(path)));

const SWAPPED_CONFIG_TEXT = JSON.stringify({
  routes: {
    "subscription-swe": {
      targets: [
        { provider: "openai-codex", modelId: "gpt-5.3-codex" },
        { provider: "anthropic", modelId: "claude-sonnet-4-6" },
      ],
    },
    "subscription-fast": {
      targets: [
        { provider: "google", modelId: "gemini-3-flash-preview" },
        { provider: "openai-codex", modelId: "gpt-5.4-mini" },
      ],
    },
  },
});
const swappedConfig = (): RouterConfig => {
  const parsed = parseConfigText(SWAPPED_CONFIG_TEXT);
  assert.ok(parsed.config, JSON.stringify(parsed.issues));
  return parsed.config;
};

/** A stand-in for route(): the first declared target the snapshot says is usable. Records what it was given. */
function fakeRoute(calls: Array<{ request: RouteRequest; snapshot: RoutingSnapshot; now: number }>): RouteFunction {
  return (request, snapshot, now) => {
    calls.push({ request, snapshot, now });
    const targets = snapshot.config.routes[request.routeId]!.targets.map(
      (target) => `${target.provider}/${target.modelId}`,
    );
    const usable = targets.filter((key) => snapshot.models[key]?.resolvable && snapshot.models[key]?.hasCredentials);
    return {
      requestedRouteId: request.routeId,
      routeId: request.routeId,
      candidates: usable.map((key) => ({ key })),
      skipped: [],
    } as unknown as Decision;
  };
}

describe("replay", () => {
  it("counts how many logged decisions would route differently under another config, and from what to what", async () => {
    const report = await replayDecisions(itemsOf(fixture), swappedConfig(), { route: fakeRoute([]) });
    assert.deepEqual([report.decisions, report.replayed, report.same, report.different], [7, 7, 2, 5]);
    assert.deepEqual(report.changes, [
      { from: "anthropic/claude-sonnet-4-6", to: "openai-codex/gpt-5.3-codex", requests: 5 },
    ]);
    assert.deepEqual(
      report.examples.map((row) => row.requestId),
      ["r1", "r2", "r3", "r6", "r7"],
    );
  });

  it("estimates the cost difference from the logged candidates' estimates when route() gives none", async () => {
    const report = await replayDecisions(itemsOf(fixture), swappedConfig(), { route: fakeRoute([]) });
    assert.equal(report.cost.compared, 4);
    assert.equal(report.cost.unknown, 1, "r7 has no candidates event, so its logged estimate is unknown");
    assert.ok(Math.abs(report.cost.loggedUsd - 0.04) < 1e-12);
    assert.ok(Math.abs(report.cost.replayedUsd - 0.08) < 1e-12);
    assert.ok(Math.abs(report.cost.differenceUsd - 0.04) < 1e-12);
  });

  it("replays from the logged features and shortcut tokens at the request's own time, with catalogue facts and no cooldowns", async () => {
    const calls: Array<{ request: RouteRequest; snapshot: RoutingSnapshot; now: number }> = [];
    await replayDecisions(itemsOf(fixture), swappedConfig(), {
      route: fakeRoute(calls),
      lookupModel: (provider) =>
        provider === "google" ? { contextWindow: 1_000_000, pricing: { input: 1, output: 2 } } : undefined,
    });
    const r4 = calls.find((call) => call.now === Date.parse("2026-05-02T10:00:00.000Z"))!;
    assert.equal(r4.request.routeId, "subscription-fast");
    assert.deepEqual(r4.request.shortcuts?.tiers, ["fast"]);
    assert.deepEqual(r4.request.shortcuts?.tokens, ["@fast"]);
    assert.equal(r4.request.features.estimatedTokens, 2000);
    assert.deepEqual(r4.snapshot.models["google/gemini-3-flash-preview"], {
      contextWindow: 1_000_000,
      pricing: { input: 1, output: 2 },
      resolvable: true,
      hasCredentials: true,
    });
    assert.deepEqual(r4.snapshot.cooldowns, {});
  });

  it("replays a request a tier moved under the route it asked for, so the new config's tiers decide again", async () => {
    // @fast moved a request of subscription-swe to subscription-fast: replayed, route() is asked for subscription-swe
    // with the @fast token, and the new config's tiers (here none) decide where it goes.
    const features = { estimatedTokens: 10, contextClass: "short", hasImages: false, hasTools: false };
    async function* events(): AsyncGenerator<NormalizedEvent> {
      yield {
        v: 1,
        type: "decision",
        ts: new Date(1).toISOString(),
        time: 1,
        requestId: "moved",
        routeId: "subscription-swe",
        data: {
          requestedRouteId: "subscription-swe",
          routeId: "subscription-fast",
          tier: "fast",
          tierSource: "shortcut",
          intent: "general",
          intentConfidence: 0.5,
          features: { ...features, intent: "general", intentConfidence: 0.5 },
          shortcutTokens: ["@fast"],
          plannedTarget: "google/gemini-3-flash-preview",
          rules: [],
          hints: [],
        },
      } as NormalizedEvent;
    }
    const calls: Array<{ request: RouteRequest; snapshot: RoutingSnapshot; now: number }> = [];
    const report = await replayDecisions(joinRequests(events()), swappedConfig(), { route: fakeRoute(calls) });
    assert.deepEqual(
      calls.map((call) => [call.request.routeId, call.request.shortcuts?.tokens]),
      [["subscription-swe", ["@fast"]]],
    );
    assert.deepEqual(report.changes, [
      { from: "google/gemini-3-flash-preview", to: "openai-codex/gpt-5.3-codex", requests: 1 },
    ]);
  });

  it("treats a target the log showed without credentials or missing as such, until it shows up as a candidate again", async () => {
    const decision = (id: string, time: number): NormalizedEvent => ({
      v: 1,
      type: "decision",
      ts: new Date(time).toISOString(),
      time,
      requestId: id,
      routeId: "subscription-swe",
      data: {
        requestedRouteId: "subscription-swe",
        routeId: "subscription-swe",
        tierSource: "none",
        intent: "code",
        intentConfidence: 1,
        features: {
          estimatedTokens: 10,
          contextClass: "short",
          hasImages: false,
          hasTools: false,
          intent: "code",
          intentConfidence: 1,
        },
        shortcutTokens: [],
        plannedTarget: "anthropic/claude-sonnet-4-6",
        rules: [],
        hints: [],
      },
    });
    const candidates = (
      id: string,
      time: number,
      skipped: Array<{ key: string; reason: string }>,
    ): NormalizedEvent => ({
      v: 1,
      type: "candidates",
      ts: new Date(time).toISOString(),
      time,
      requestId: id,
      data: {
        candidates: [
          {
            key: "anthropic/claude-sonnet-4-6",
            rank: 1,
            bucket: "normal",
            billing: "subscription",
            reasons: [],
            warnings: [],
          },
        ],
        skipped: skipped.map((entry) => ({ ...entry, detail: "" })),
      },
    });
    async function* events() {
      yield decision("a", 1);
      yield candidates("a", 2, [{ key: "openai-codex/gpt-5.3-codex", reason: "no-credentials" }]);
      yield decision("b", 3);
      yield candidates("b", 4, [{ key: "openai-codex/gpt-5.3-codex", reason: "missing-model" }]);
    }
    const calls: Array<{ request: RouteRequest; snapshot: RoutingSnapshot; now: number }> = [];
    const report = await replayDecisions(joinRequests(events()), swappedConfig(), { route: fakeRoute(calls) });
    assert.deepEqual(
      calls.map((call) => call.snapshot.models["openai-codex/gpt-5.3-codex"]),
      [
        { resolvable: true, hasCredentials: false },
        { resolvable: false, hasCredentials: false },
      ],
    );
    assert.deepEqual([report.same, report.different], [2, 0]);
  });

  it("replays a target neither the catalogue nor the log knows as missing, as the router skips it, and names it", async () => {
    const parsed = parseConfigText(
      JSON.stringify({
        routes: {
          "subscription-swe": {
            targets: [
              { provider: "anthropic", modelId: "claude-sonnet-4-66" },
              { provider: "openai-codex", modelId: "gpt-5.3-codex" },
            ],
          },
        },
      }),
    );
    assert.ok(parsed.config);
    // The catalogue knows neither model; the log shows gpt-5.3-codex as a candidate, so it exists.
    const report = await replayDecisions(itemsOf(fixture), parsed.config, {
      route,
      lookupModel: () => undefined,
      catalogueComplete: true,
    });
    assert.deepEqual(
      report.changes.map((change) => [change.from, change.to, change.requests]),
      [["anthropic/claude-sonnet-4-6", "openai-codex/gpt-5.3-codex", 5]],
    );
    assert.deepEqual(report.missingTargets, [{ key: "anthropic/claude-sonnet-4-66", requests: 5 }]);
    const text = formatReplayReport(report, { configFile: "typo.json", modelsFile: "/agent/models.json" });
    assert.match(
      text,
      /^Warning: a target in typo\.json was not found in pi's model catalogue, \/agent\/models\.json or the log,$/m,
    );
    assert.equal(text.split("claude-sonnet-4-66").length, 2, "named once");
  });

  it("assumes every target exists when the catalogue could not be loaded, and says so", async () => {
    const parsed = parseConfigText(
      JSON.stringify({ routes: { "subscription-swe": { targets: [{ provider: "zz", modelId: "nope" }] } } }),
    );
    assert.ok(parsed.config);
    const report = await replayDecisions(itemsOf(fixture), parsed.config, {
      route,
      lookupModel: () => undefined,
      catalogueComplete: false,
    });
    assert.deepEqual([report.missingTargets, report.targetsChecked], [[], false]);
    assert.deepEqual(
      report.changes.map((change) => change.to),
      ["zz/nope"],
    );
    assert.match(formatReplayReport(report), /^Note: pi's built-in model catalogue could not be loaded/);
  });

  it("reports decisions it cannot replay instead of guessing: no features, or a route the config lacks", async () => {
    async function* events(): AsyncIterable<NormalizedEvent> {
      yield {
        v: 0,
        type: "decision",
        ts: "2026-05-01T00:00:00.000Z",
        time: 0,
        requestId: "old",
        data: { requestedRouteId: "subscription-swe", routeId: "subscription-swe" },
      } as unknown as NormalizedEvent;
      yield {
        v: 1,
        type: "decision",
        ts: "2026-05-01T00:00:00.000Z",
        time: 0,
        requestId: "gone",
        data: { requestedRouteId: "retired", routeId: "retired", features: { estimatedTokens: 5 }, shortcutTokens: [] },
      } as unknown as NormalizedEvent;
    }
    const report = await replayDecisions(joinRequests(events()), swappedConfig(), { route: fakeRoute([]) });
    assert.deepEqual([report.decisions, report.replayed], [2, 0]);
    assert.deepEqual(report.notReplayable, { "no features logged": 1, 'route "retired" not in the config': 1 });
  });

  it("replays through the real decision core with the same result as the stand-in for a plain reorder", async () => {
    const report = await replayDecisions(itemsOf(fixture), swappedConfig(), { route });
    assert.deepEqual([report.replayed, report.same, report.different], [7, 2, 5]);
    assert.deepEqual(
      report.changes.map((change) => [change.from, change.to, change.requests]),
      [["anthropic/claude-sonnet-4-6", "openai-codex/gpt-5.3-codex", 5]],
    );
    assert.match(formatReplayReport(report), /^different +5$/m);
  });

  it("parses logged shortcut tokens back into tiers and provider preferences", () => {
    assert.deepEqual(shortcutsFromTokens(["@reasoning", "@only=anthropic"]), {
      tiers: ["reasoning"],
      preferences: { only: ["anthropic"] },
      tokens: ["@reasoning", "@only=anthropic"],
    });
    assert.deepEqual(shortcutsFromTokens([]), { tiers: [], preferences: {}, tokens: [] });
  });

  it("says where a --config that cannot be replayed under is broken, with line and column as pi reports it", () => {
    const broken = '{\n  "routes": {\n    "a": { "targets": [] },\n  }\n}\n';
    assert.equal(
      invalidConfigText("new.json", parseConfigText(broken).issues),
      "invalid config: new.json:4:3: not valid JSON: Expected double-quoted property name (JSON allows no comma before it)",
    );
    const wrongType = '{\n  "routes": {\n    "a": { "targets": [{ "provider": 3, "modelId": "m" }] }\n  }\n}\n';
    assert.equal(
      invalidConfigText("new.json", parseConfigText(wrongType).issues),
      "invalid config: new.json:3:38 at routes.a.targets[0].provider: expected a string, got a number",
    );
  });
});
