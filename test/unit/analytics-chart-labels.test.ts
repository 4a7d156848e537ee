// The HTML report's p50/p90 charts size their name column and the room after the bars to the labels: a name of wide
// letters must not run past the chart's left edge, nor a value past its right one, in the widest usual sans-serif font.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { CHART_WIDTH } from "../../src/analytics/day-bar-chart.ts";
import { renderSessionHtml } from "../../src/analytics/html-report.ts";
import { joinRequests } from "../../src/analytics/request-join.ts";
import { computeSessionStats } from "../../src/analytics/session-stats.ts";
import { findLogFiles, readEvents } from "../../src/events/read-events.ts";

/**
 * DejaVu Sans (Debian's sans-serif, the widest of the usual ones) at the charts' 11 px, as Chromium measured each
 * character (canvas measureText); "…" is the cut name's end.
 */
const DEJAVU_SANS_11PX: Record<string, number> = {
  ...Object.fromEntries([..."0123456789$"].map((digit) => [digit, 7])),
  " ": 3.5,
  ".": 3.5,
  ",": 3.5,
  "/": 3.71,
  "-": 3.97,
  a: 6.74,
  b: 6.98,
  d: 6.98,
  e: 6.77,
  g: 6.98,
  i: 3.06,
  m: 10.72,
  s: 5.73,
  w: 9,
  A: 7.52,
  M: 9.49,
  O: 8.66,
  W: 10.88,
  "…": 11,
};

const drawnWidth = (text: string): number =>
  [...text].reduce((sum, character) => {
    const width = DEJAVU_SANS_11PX[character];
    assert.ok(width !== undefined, `no reference width for ${JSON.stringify(character)}`);
    return sum + width;
  }, 0);

const fixture = fileURLToPath(new URL("../fixtures/events/ours.jsonl", import.meta.url));
const NAMES = ["gamma/m-gamma", "MOAW/Wammm-MW", `wide/${"m".repeat(40)}`, "a/b"];

describe("HTML report's p50/p90 charts", () => {
  it("keeps every model name and value inside the chart, however wide its letters", async () => {
    const stats = await computeSessionStats(joinRequests(readEvents(findLogFiles(fixture))));
    const [model] = stats.models;
    assert.ok(model, "the fixture has a model");
    stats.models = NAMES.map((name, index) => ({
      ...model,
      model: name,
      latencyMs: { ...model.latencyMs, p50: 400 + index, p90: 90_000 + index },
      costUsd: { ...model.costUsd, p50: 0.5, p90: 1_234.5 },
    }));
    const html = renderSessionHtml(stats);
    for (const id of ["chart-latency", "chart-cost"]) {
      const svg = new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(html)?.[0];
      assert.ok(svg, `chart ${id} in the page`);
      const names = [
        ...svg.matchAll(
          /<text class="model-name" x="([\d.]+)"[^>]*text-anchor="end">(?:<title>[^<]*<\/title>)?([^<]*)<\/text>/g,
        ),
      ];
      assert.equal(names.length, NAMES.length, id);
      for (const [, x, name] of names) {
        const left = Number(x) - drawnWidth(name!);
        assert.ok(left >= 0, `${id}: "${name}" starts at x ${left.toFixed(1)}, left of the chart`);
      }
      for (const [, x, value] of svg.matchAll(/<text class="value-label" x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)) {
        const right = Number(x) + drawnWidth(value!);
        assert.ok(right <= CHART_WIDTH, `${id}: "${value}" ends at x ${right.toFixed(1)}, past ${CHART_WIDTH}`);
      }
    }
  });
});
