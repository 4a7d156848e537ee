import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findLogFiles, readEvents } from "../../src/events/read-events.ts";
import { countAxisTicks } from "../../src/analytics/day-bar-chart.ts";
import { renderSessionHtml } from "../../src/analytics/html-report.ts";
import { joinRequests } from "../../src/analytics/request-join.ts";
import { computeSessionStats, type DayRow, type SessionStatsOptions } from "../../src/analytics/session-stats.ts";
import { formatSessionStats } from "../../src/analytics/session-stats-format.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/events/${name}`, import.meta.url));
const statsOf = (name: string, options: SessionStatsOptions = {}) =>
  computeSessionStats(joinRequests(readEvents(findLogFiles(fixture(name)))), options);

/** The stats of ours.jsonl with one text replaced in it (the replacement must change the log). */
async function statsOfEdited(from: string, to: string) {
  const dir = freshDir("auto-router-session-stats");
  try {
    const original = readFileSync(fixture("ours.jsonl"), "utf8");
    const edited = original.replace(from, to);
    assert.notEqual(edited, original);
    writeFileSync(join(dir, "auto-router.events.jsonl"), edited);
    return await computeSessionStats(joinRequests(readEvents(findLogFiles(dir))), {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("session stats", () => {
  it("composes each UTC day by served model, with failovers and failures per day", async () => {
    const stats = await statsOf("ours.jsonl");
    assert.deepEqual(stats.days, [
      {
        day: "2026-05-01",
        requests: 2,
        requestsFailedOver: 1,
        targetSwitches: 1,
        failovers: 1,
        failed: 0,
        refused: 0,
        refusedByTarget: 0,
        composition: [
          { model: "anthropic/claude-sonnet-4-6", requests: 1 },
          { model: "openai-codex/gpt-5.3-codex", requests: 1 },
        ],
      },
      {
        day: "2026-05-02",
        requests: 3,
        requestsFailedOver: 1,
        targetSwitches: 1,
        failovers: 1,
        failed: 1,
        refused: 0,
        refusedByTarget: 0,
        composition: [
          { model: "(not served)", requests: 1 },
          { model: "google/gemini-3-flash-preview", requests: 1 },
          { model: "openai-codex/gpt-5.4-mini", requests: 1 },
        ],
      },
      {
        day: "2026-05-03",
        requests: 1,
        requestsFailedOver: 0,
        targetSwitches: 0,
        failovers: 0,
        failed: 0,
        refused: 0,
        refusedByTarget: 0,
        composition: [{ model: "(not served)", requests: 1 }],
      },
    ]);
  });

  it("counts a day's requests failed over and its target switches apart, and names each unit", async () => {
    const stats = await statsOfEdited(
      '"attempts":2,"failovers":1,"latencyMs":3300,"failureKinds":["rate_limit"]',
      '"attempts":3,"failovers":2,"latencyMs":3300,"failureKinds":["rate_limit","server"]',
    );
    const day = stats.days[0]!;
    assert.deepEqual([day.requests, day.requestsFailedOver, day.targetSwitches, day.failovers], [2, 1, 2, 2]);
    const text = formatSessionStats(stats);
    assert.match(text, /^day +requests +failed over +target switches +failed +refused +target refused$/m);
    assert.match(text, /^2026-05-01 +2 +1 +2 +0 +0 +0 /m);
    assert.match(text, /target switches: moves to the next target/);
  });

  it("counts requests the router refused on their own, not as failed", async () => {
    // A hard budget refused r3 before any target was called: outcome "refused", no attempt.
    const stats = await statsOfEdited(
      '"outcome":"failed","plannedTarget":"anthropic/claude-sonnet-4-6","attempts":2,"failovers":1',
      '"outcome":"refused","plannedTarget":"anthropic/claude-sonnet-4-6","attempts":0,"failovers":0',
    );
    const day = stats.days[1]!;
    assert.deepEqual([day.day, day.requests, day.failed, day.refused, day.refusedByTarget], ["2026-05-02", 3, 0, 1, 0]);
    assert.match(formatSessionStats(stats), /^2026-05-02 +3 +0 +0 +0 +1 +0$/m);
  });

  it("counts requests a target refused to answer apart from the router's refusals and from failures", async () => {
    // The target refused r3 (a content filter): outcome "refused" with refusedBy naming it.
    const stats = await statsOfEdited(
      '"outcome":"failed","plannedTarget":"anthropic/claude-sonnet-4-6","attempts":2,"failovers":1',
      '"outcome":"refused","refusedBy":"anthropic/claude-sonnet-4-6","plannedTarget":"anthropic/claude-sonnet-4-6","attempts":2,"failovers":1',
    );
    const day = stats.days[1]!;
    assert.deepEqual([day.day, day.requests, day.failed, day.refused, day.refusedByTarget], ["2026-05-02", 3, 0, 0, 1]);
    const text = formatSessionStats(stats);
    assert.match(text, /^2026-05-02 +3 +1 +1 +0 +0 +1 /m);
    assert.match(text, /target refused: requests that ended in a target's refusal/);
  });

  it("names only --daily-top models per day and sums the rest as other; --limit keeps the latest days", async () => {
    const stats = await statsOf("ours.jsonl", { dailyTop: 1, limit: 2 });
    assert.deepEqual(
      stats.days.map((day) => day.day),
      ["2026-05-02", "2026-05-03"],
    );
    assert.deepEqual(stats.days[0]!.composition, [
      { model: "(not served)", requests: 1 },
      { model: "other", requests: 2 },
    ]);
  });

  it("builds the UVI timeline per provider and day from quota events", async () => {
    const stats = await statsOf("ours.jsonl");
    assert.deepEqual(stats.uviTimeline, [
      {
        provider: "anthropic",
        day: "2026-05-01",
        samples: 2,
        min: 0.4,
        max: 0.9,
        average: 0.65,
        lastLevel: "stressed",
      },
      {
        provider: "openai-codex",
        day: "2026-05-02",
        samples: 1,
        min: 0.2,
        max: 0.2,
        average: 0.2,
        lastLevel: "surplus",
      },
    ]);
  });

  it("keeps a window of some models only on a timeline of its own, apart from the provider's", async () => {
    const dir = freshDir("auto-router-session-stats");
    try {
      const quota = (data: object) =>
        JSON.stringify({ v: 1, type: "quota", ts: "2026-05-03T08:00:00.000Z", sessionId: "s1", routeId: null, data });
      writeFileSync(
        join(dir, "auto-router.events.jsonl"),
        `${[
          quota({ provider: "anthropic", uvi: 0.47, level: "ok", window: "7d", source: "usage-api" }),
          quota({
            provider: "anthropic",
            models: "opus models",
            uvi: 2.33,
            level: "critical",
            window: "7d opus",
            source: "usage-api",
          }),
        ].join("\n")}\n`,
      );
      const stats = await computeSessionStats(joinRequests(readEvents(findLogFiles(dir))), {});
      assert.deepEqual(
        stats.uviTimeline.map((row) => [row.provider, row.max, row.lastLevel]),
        [
          ["anthropic", 0.47, "ok"],
          ["anthropic (opus models)", 2.33, "critical"],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives latency, time to first token and cost per model from each attempt", async () => {
    const stats = await statsOf("ours.jsonl");
    assert.deepEqual(
      stats.models.map((model) => [model.model, model.attempts, model.success, model.failed, model.estimated]),
      [
        ["anthropic/claude-sonnet-4-6", 4, 1, 2, 0],
        ["openai-codex/gpt-5.3-codex", 2, 1, 1, 0],
        ["google/gemini-3-flash-preview", 1, 1, 0, 0],
        ["openai-codex/gpt-5.4-mini", 1, 1, 0, 1],
      ],
    );
    const sonnet = stats.models[0]!;
    assert.deepEqual(
      [sonnet.latencyMs.count, sonnet.latencyMs.p50, sonnet.latencyMs.p90, sonnet.ttftMs.p50],
      [1, 2000, 2000, 500],
    );
    assert.deepEqual([sonnet.costUsd.count, sonnet.costUsd.total], [1, 0.01]);
    assert.deepEqual(
      sonnet.latencyMs.buckets.map((bucket) => `${bucket.label}=${bucket.count}`),
      ["<1s=0", "1s-2s=0", "2s-5s=1", "5s-10s=0", "10s-30s=0", "30s-60s=0", ">=60s=0"],
    );
    assert.equal(stats.models[2]!.latencyMs.buckets[0]!.count, 1);
  });

  it("tells a failover after an error from planner drift, and counts shadow-order mismatches", async () => {
    const stats = await statsOf("ours.jsonl");
    assert.deepEqual(stats.drift, {
      requests: 6,
      servedAsPlanned: 2,
      failoverAfterError: 1,
      plannerDrift: 1,
      notServed: 2,
      shadowMismatch: 1,
      driftShare: 0.5,
    });
    assert.deepEqual(
      stats.recentDrift.map((row) => [row.requestId, row.planned, row.served, row.kind, row.failureKinds]),
      [
        ["r4", "google/gemini-3-flash-preview", "openai-codex/gpt-5.4-mini", "planner-drift", []],
        ["r2", "anthropic/claude-sonnet-4-6", "openai-codex/gpt-5.3-codex", "failover-after-error", ["rate_limit"]],
      ],
    );
  });

  it("lists errors that a successful failover hid, not errors of requests that failed anyway", async () => {
    const stats = await statsOf("ours.jsonl");
    assert.deepEqual(stats.maskedErrors, [
      {
        target: "anthropic/claude-sonnet-4-6",
        failureKind: "rate_limit",
        count: 1,
        lastMessage: "429 rate limited, retry in 20s",
      },
    ]);
  });

  it("counts an old log's attempts per model from its result lines and its masked errors from their error text", async () => {
    const stats = await statsOf("legacy.jsonl");
    // Sonnet: L1 ok, L2 429, L3 529 (L5's attempt has no result); Codex: L2 ok, L3 500; DeepSeek: L4 ok.
    assert.deepEqual(
      stats.models.map((model) => [model.model, model.attempts, model.success, model.failed]),
      [
        ["anthropic/claude-sonnet-4-6", 3, 1, 2],
        ["openai-codex/gpt-5.3-codex", 2, 1, 1],
        ["deepseek/deepseek-chat", 1, 1, 0],
      ],
    );
    // Only L2's 429 was hidden by a successful failover; L3 failed anyway.
    assert.deepEqual(
      stats.maskedErrors.map((row) => [row.target, row.failureKind, row.count]),
      [["anthropic/claude-sonnet-4-6", "rate_limit", 1]],
    );
    assert.deepEqual(
      [stats.drift.servedAsPlanned, stats.drift.failoverAfterError, stats.drift.plannerDrift, stats.drift.notServed],
      [2, 1, 0, 1],
    );
  });

  it("gives every model of the daily composition a fill of its own, the least served as other past ten", async () => {
    const stats = await statsOf("ours.jsonl");
    // 12 models over 3 days (5 a day, as --daily-top names them), models 9, 10 and 11 the least served.
    stats.days = [0, 1, 2].map((index) => ({
      ...day(`2026-05-0${index + 1}`, 0, 0),
      composition: [0, 1, 2, 3, 4].map((slot) => {
        const model = (index * 4 + slot) % 12;
        return { model: `p/model-${model}`, requests: model === 11 ? 1 : 20 - model };
      }),
    }));
    for (const row of stats.days) row.requests = row.composition.reduce((sum, part) => sum + part.requests, 0);
    const text = formatSessionStats(stats);
    const legend = /^legend: (.*)$/m.exec(text)![1]!.split("   ");
    const fills = legend.map((entry) => entry.split(" ")[0]);
    assert.equal(new Set(fills).size, fills.length, `one fill per legend entry: ${legend.join(" | ")}`);
    assert.equal(legend.length, 10);
    assert.deepEqual(legend.slice(-1), [`${fills.at(-1)} other`]);
    assert.ok(!legend.some((entry) => /model-(9|10|11)$/.test(entry)), "the three least served are other");
    const html = renderSessionHtml(stats);
    const colours = [...html.matchAll(/<g class="legend-item" data-model="([^"]*)"[^>]*>\s*<rect[^>]*fill="([^"]+)"/g)];
    assert.equal(colours.length, 10, "ten legend entries in the HTML chart");
    assert.equal(new Set(colours.map((match) => match[2])).size, 10, "one colour per legend entry");
    assert.match(html, /<rect class="bar" data-day="2026-05-03" data-model="other" data-value="22"/);
    // A day's line names its own top model, also one the chart draws as other (the least served over all days).
    const nine = Array.from({ length: 9 }, (_, index) => ({ model: `p/kept-${index}`, requests: 10 }));
    const few = [5, 4, 3].map((requests, index) => ({ model: `p/few-${index}`, requests }));
    stats.days = [
      { ...day("2026-05-01", 90, 0), composition: nine },
      { ...day("2026-05-02", 12, 0), composition: few },
    ];
    assert.match(formatSessionStats(stats), /^2026-05-02 +12 +(\S)\1{39} +p\/few-0 41\.7%$/m);
  });

  it("rules no line under the failovers table's bar column, whose header is empty", async () => {
    const text = formatSessionStats(await statsOf("ours.jsonl"));
    const [, header, rule] = text.split("Failovers per day\n")[1]!.split("\n");
    assert.match(header!, /^day +requests +failed over +target switches +failed +refused +target refused$/);
    assert.match(rule!, /^-+ +-+ +-+ +-+ +-+ +-+ +-{14}$/, "the rule ends under the last header");
  });

  it("prints every section, adding latency and cost buckets only when verbose", async () => {
    const stats = await statsOf("ours.jsonl");
    const text = formatSessionStats(stats);
    for (const title of [
      "Failovers per day",
      "UVI timeline",
      "Drift overview",
      "Top errors masked by failover",
      "Recent drift",
    ])
      assert.match(text, new RegExp(`^${title}$`, "m"));
    assert.match(text, /^Daily composition by served model/m);
    assert.doesNotMatch(text, /Latency buckets per model/);
    assert.match(formatSessionStats(stats, { verbose: true }), /^Latency buckets per model$/m);
    assert.match(text, /^2026-05-01 +2 +█{20}▓{20} /m);
  });
});

/** The text a reader sees in one chart of the page: every <text> of the SVG, without the hover-only <title>s. */
function visibleTexts(html: string, id: string): string[] {
  const svg = new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(html)?.[0];
  assert.ok(svg, `chart ${id} in the page`);
  return [...svg.replace(/<title>[\s\S]*?<\/title>/g, "").matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map(
    (match) => match[1]!,
  );
}

/** A day of `requests` requests, `failedOver` of them failed over, all served by one model. */
const day = (date: string, requests: number, failedOver: number): DayRow => ({
  day: date,
  requests,
  requestsFailedOver: failedOver,
  targetSwitches: failedOver,
  failovers: failedOver,
  failed: 0,
  refused: 0,
  refusedByTarget: 0,
  composition: [{ model: "anthropic/claude-sonnet-4-6", requests }],
});

describe("session HTML report", () => {
  it("puts the per-day bar charts on a count axis of whole steps of 1, 2 or 5 x 10^n", () => {
    assert.deepEqual(countAxisTicks(0), [0, 1]);
    assert.deepEqual(countAxisTicks(1), [0, 1]);
    assert.deepEqual(countAxisTicks(3), [0, 1, 2, 3]);
    assert.deepEqual(countAxisTicks(19), [0, 5, 10, 15, 20]);
    assert.deepEqual(countAxisTicks(1234), [0, 500, 1000, 1500]);
  });

  it("shows each day's values, the axis and the days as visible text, not only in hover titles", async () => {
    const html = renderSessionHtml(await statsOf("ours.jsonl"));
    const failovers = visibleTexts(html, "chart-failovers");
    for (const text of ["0", "1", "2", "3", "1 of 2", "1 of 3", "0 of 1", "05-01", "05-02", "05-03"])
      assert.ok(failovers.includes(text), `"${text}" in ${JSON.stringify(failovers)}`);
    const composition = visibleTexts(html, "chart-daily-composition");
    for (const text of ["0", "1", "2", "3", "requests", "05-01", "05-02", "05-03"])
      assert.ok(composition.includes(text), `"${text}" in ${JSON.stringify(composition)}`);
    assert.match(
      html,
      /<table id="table-failovers">.*<th>failed over<\/th><th>target switches<\/th><th>failed<\/th><th>refused<\/th><th>target refused<\/th>.*<tr><td>2026-05-02<\/td><td>3<\/td><td>1<\/td><td>1<\/td><td>1<\/td><td>0<\/td><td>0<\/td><\/tr>/,
    );
  });

  it("draws one day's single failover as its share of the day's requests, in a bar that does not fill the chart", async () => {
    const stats = await statsOf("ours.jsonl");
    stats.days = [day("2026-05-02", 19, 1)];
    const html = renderSessionHtml(stats);
    const failedOver =
      /<rect class="bar" data-day="2026-05-02" data-value="1"[^>]*width="([\d.]+)" height="([\d.]+)"/.exec(html);
    const rest = /<rect class="bar rest" data-day="2026-05-02" data-value="18"[^>]*height="([\d.]+)"/.exec(html);
    assert.ok(failedOver && rest, "the day's failed-over and other requests are drawn");
    assert.ok(Math.abs(Number(failedOver[2]) * 18 - Number(rest[1])) < 1, `1:18 (${failedOver[2]} / ${rest[1]})`);
    assert.ok(Number(failedOver[1]) < 100, `one day's bar is a column, not the chart's width (${failedOver[1]})`);
    const texts = visibleTexts(html, "chart-failovers");
    for (const text of ["0", "5", "10", "15", "20", "1 of 19", "05-02"])
      assert.ok(texts.includes(text), `"${text}" in ${JSON.stringify(texts)}`);
  });

  it("keeps the value labels one form for every day: 'N of M', else in two lines, else none when days crowd", async () => {
    const stats = await statsOf("ours.jsonl");
    const dates = (count: number) =>
      Array.from({ length: count }, (_, index) => new Date(Date.UTC(2026, 4, 1 + index)).toISOString().slice(0, 10));
    stats.days = dates(14).map((date, index) => day(date, 100 + index * 30, index * 10));
    let texts = visibleTexts(renderSessionHtml(stats), "chart-failovers");
    assert.ok(texts.includes("0") && texts.includes("of 100"), JSON.stringify(texts));
    assert.ok(texts.includes("130") && texts.includes("of 490"), JSON.stringify(texts));
    assert.ok(!texts.some((text) => / of /.test(text)), "no day keeps the one-line form");
    stats.days = dates(40).map((date) => day(date, 1000, 100));
    texts = visibleTexts(renderSessionHtml(stats), "chart-failovers");
    assert.ok(!texts.includes("of 1000"), "no value label where they would overlap");
    const dayLabels = texts.filter((text) => /^\d\d-\d\d$/.test(text));
    assert.ok(dayLabels.length > 5 && dayLabels.length < 40, `every n-th day named (${dayLabels.length})`);
  });

  it("is one self-contained page with the four charts under stable ids and no external resource", async () => {
    const html = renderSessionHtml(await statsOf("ours.jsonl"), { generatedAt: "2026-05-04T00:00:00.000Z" });
    assert.match(html, /^<!doctype html>/);
    for (const id of ["chart-daily-composition", "chart-failovers", "chart-latency", "chart-cost"])
      assert.match(html, new RegExp(`<svg id="${id}"`));
    assert.doesNotMatch(html, /<script|<link|src="http|href="http/);
    assert.match(html, /<rect class="bar" data-day="2026-05-02" data-model="\(not served\)" data-value="1"/);
    assert.match(html, /<rect class="bar" data-day="2026-05-01" data-value="1" data-requests="2"/);
    // Each count with its noun in the singular for one.
    assert.match(html, /<title>2026-05-01: 1 of 2 requests failed over \(1 target switch\)<\/title>/);
    assert.match(html, /<title>2026-05-03: 1 of 1 request did not fail over<\/title>/);
    assert.match(
      html,
      /<g class="model-row" data-model="anthropic\/claude-sonnet-4-6"><text[^>]*>anthropic\/claude-sonnet-4-6<\/text><rect class="bar p90" data-value="2000"/,
    );
  });

  it("names the unfinished requests (no final line yet) in the page as in the text, counts with thousands separators", async () => {
    const stats = await statsOf("ours.jsonl");
    assert.equal(stats.incomplete, 1, "the fixture's last request has no final line");
    const page = renderSessionHtml(stats, { generatedAt: "2026-05-04T00:00:00.000Z" });
    assert.match(page, /<p id="generated">2026-05-04T00:00:00\.000Z · 6 requests, 1 unfinished<\/p>/);
    stats.requests = 12_000;
    stats.incomplete = 1_500;
    assert.match(
      formatSessionStats(stats),
      /^Daily composition by served model \(UTC days, 12,000 requests, 1,500 unfinished\)$/m,
    );
    assert.match(renderSessionHtml(stats), /<p id="generated"> · 12,000 requests, 1,500 unfinished<\/p>/);
    // One request is one request, in both.
    stats.requests = 1;
    stats.incomplete = 0;
    assert.match(formatSessionStats(stats), /^Daily composition by served model \(UTC days, 1 request\)$/m);
    assert.match(renderSessionHtml(stats), /<p id="generated"> · 1 request<\/p>/);
  });

  it("keeps shortened model names apart when they differ only at their end, in the legend and the p50/p90 charts", async () => {
    const stats = await statsOf("ours.jsonl");
    const long = (version: string) => `openrouter/meta-llama/llama-${version}-instruct-with-a-long-provider-suffix`;
    const names = [long("3.3-70b"), long("3.1-405b"), "a/short"];
    stats.days = [{ ...day("2026-05-01", 3, 0), composition: names.map((model) => ({ model, requests: 1 })) }];
    stats.models = names.map((model) => ({ ...stats.models[0]!, model }));
    const html = renderSessionHtml(stats);
    for (const id of ["chart-daily-composition", "chart-latency", "chart-cost"]) {
      const shown = visibleTexts(html, id).filter((text) => text.startsWith("openrouter/"));
      assert.equal(shown.length, 2, `${id}: ${JSON.stringify(shown)}`);
      assert.notEqual(shown[0], shown[1], `${id}: the two names read apart: ${JSON.stringify(shown)}`);
      for (const text of shown) assert.ok(text.includes("…"), `${id}: "${text}" is shortened`);
    }
    assert.ok(visibleTexts(html, "chart-latency").includes("a/short"), "a name that fits stays whole");
  });

  it("escapes model names and messages taken from the log", async () => {
    const stats = await statsOf("ours.jsonl");
    stats.maskedErrors[0]!.lastMessage = '<img src=x onerror="alert(1)">';
    stats.days[0]!.composition[0]!.model = "evil/<b>";
    const html = renderSessionHtml(stats);
    assert.doesNotMatch(html, /<img|<b>/);
    assert.match(html, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
  });
});
