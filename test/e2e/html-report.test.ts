// The routing-session-stats HTML report as a person sees it: rendered by headless Chromium (Debian's `chromium`,
// driven by playwright-core), its charts are drawn and a screenshot of the page is not blank. Without a browser the
// test is skipped on a developer's machine; under CI (.ci/run installs both) a missing browser fails it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "../helpers/agent-dir.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Per node.md: as root, in a closed network, Chromium needs these to start quietly. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PLAYWRIGHT: string = "playwright-core";
const CHART_IDS = ["chart-daily-composition", "chart-latency", "chart-cost", "chart-failovers"];

function playwrightAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve(PLAYWRIGHT);
    return true;
  } catch {
    return false;
  }
}

/** Runs routing-session-stats on `log` with `--html report`; returns `report`. */
function writeReport(log: string, report: string): string {
  const run = spawnSync(
    process.execPath,
    [join(REPO_ROOT, "scripts", "routing-session-stats.mjs"), "--file", log, "--html", report],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  return report;
}

const missing = [existsSync(CHROMIUM) ? undefined : CHROMIUM, playwrightAvailable() ? undefined : "playwright-core"]
  .filter(Boolean)
  .join(" and ");
const inCi = process.env.CI === "true" || process.env.CI === "1";

/** A PNG's pixels, decoded by Chromium itself: how many there are of each `r,g,b,a`. */
async function pngPixels(page: any, png: Buffer): Promise<Map<string, number>> {
  const counts: Array<[string, number]> = await page.evaluate(async (base64: string) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d")!;
    context.drawImage(image, 0, 0);
    const data = context.getImageData(0, 0, image.width, image.height).data;
    const byColor = new Map<string, number>();
    for (let i = 0; i < data.length; i += 4) {
      const color = `${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`;
      byColor.set(color, (byColor.get(color) ?? 0) + 1);
    }
    return [...byColor];
  }, png.toString("base64"));
  return new Map(counts);
}

describe("the session report in headless Chromium", {
  skip: missing && !inCi ? `${missing} not installed (.ci/run installs them)` : false,
}, () => {
  let workDir: string;
  let browser: any;

  before(async () => {
    assert.equal(missing, "", `CI must run this test: ${missing} missing`);
    workDir = freshDir("auto-router-html");
    // A variable specifier: playwright-core is installed by .ci/run, not a dependency, so the type check must not need it.
    const { chromium } = await import(PLAYWRIGHT);
    // playwright starts each browser with a new empty profile of its own (it refuses a --user-data-dir argument).
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("draws every chart of a report built from an event log and renders a non-blank page", async () => {
    const report = join(workDir, "report.html");
    const run = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, "scripts", "routing-session-stats.mjs"),
        "--file",
        join(REPO_ROOT, "test", "fixtures", "events", "ours.jsonl"),
        "--html",
        report,
      ],
      { encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stderr);

    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    await page.goto(pathToFileURL(report).href);
    for (const id of CHART_IDS) {
      const chart = page.locator(`svg#${id}`);
      assert.equal(await chart.count(), 1, `chart ${id} exists`);
      const box = await chart.boundingBox();
      assert.ok(box && box.width > 0 && box.height > 0, `chart ${id} is laid out with a size`);
      const marks = await page.locator(`svg#${id} rect, svg#${id} circle, svg#${id} line, svg#${id} path`).count();
      assert.ok(marks > 0, `chart ${id} has marks`);
    }

    const screenshot: Buffer = await page.screenshot({ fullPage: true });
    // Decode the PNG in the browser itself and count pixels that are neither white nor transparent.
    const pixels = await pngPixels(page, screenshot);
    let count = 0;
    const colors = new Set<string>();
    for (const [color, n] of pixels) {
      const [r, g, b, a] = color.split(",").map(Number) as [number, number, number, number];
      if (a === 0 || (r > 245 && g > 245 && b > 245)) continue;
      count += n;
      colors.add(`${r},${g},${b}`);
    }
    const inked = { count, colors: colors.size, total: [...pixels.values()].reduce((sum, n) => sum + n, 0) };
    assert.ok(
      inked.count > inked.total * 0.01,
      `at least 1% of the page is drawn (${inked.count} of ${inked.total} pixels)`,
    );
    assert.ok(inked.colors >= 4, `the charts use several colours (${inked.colors})`);
    await page.close();
  });

  it("shows one day's failover as its share of the day's requests, with the axis and values in visible text", async () => {
    // One day of the fixture: 3 requests, 1 failed over. Before, that day was one red block filling the chart, its
    // value only in a hover title.
    const log = join(workDir, "one-day", "auto-router.events.jsonl");
    mkdirSync(dirname(log));
    const lines = readFileSync(join(REPO_ROOT, "test", "fixtures", "events", "ours.jsonl"), "utf8").split("\n");
    writeFileSync(log, `${lines.filter((line) => line.includes('"ts":"2026-05-02')).join("\n")}\n`);
    const report = writeReport(log, join(workDir, "one-day.html"));

    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    await page.goto(pathToFileURL(report).href);
    const chart = (id: string) =>
      page.evaluate((selector: string) => {
        const svg = document.querySelector(selector) as SVGSVGElement;
        // Sizes of the first failed-over bar and the first bar of other requests (no named helper: tsx would wrap
        // it in a __name call the page does not have).
        const [failedOver, rest] = ["rect.bar[data-value]:not(.rest)", "rect.bar.rest"]
          .map((bar) => svg.querySelector(bar)?.getBoundingClientRect())
          .map((rect) => (rect ? { width: rect.width, height: rect.height } : undefined));
        return {
          width: svg.getBoundingClientRect().width,
          // What a reader sees: the <text> marks, drawn with a size (a <title> is only a tooltip).
          texts: [...svg.querySelectorAll("text")]
            .filter((text) => text.getBoundingClientRect().width > 0)
            .map((text) => text.textContent),
          failedOver,
          rest,
        };
      }, `svg#${id}`);
    const failovers = await chart("chart-failovers");
    for (const text of ["0", "1", "2", "3", "requests", "1 of 3", "05-02"])
      assert.ok(failovers.texts.includes(text), `"${text}" shown in ${JSON.stringify(failovers.texts)}`);
    assert.ok(failovers.failedOver && failovers.rest, "failed-over and other requests are drawn");
    assert.ok(
      Math.abs(failovers.failedOver.height * 2 - failovers.rest.height) < 1,
      `1 request failed over is half as tall as the 2 others (${failovers.failedOver.height}, ${failovers.rest.height})`,
    );
    assert.ok(
      failovers.failedOver.width < failovers.width / 4,
      `one day is a column, not a block the chart's width (${failovers.failedOver.width} of ${failovers.width})`,
    );
    const composition = await chart("chart-daily-composition");
    for (const text of ["0", "1", "2", "3", "requests", "05-02"])
      assert.ok(composition.texts.includes(text), `"${text}" shown in ${JSON.stringify(composition.texts)}`);
    await page.close();
  });

  it("draws requests no target served hatched in grey, apart from the failover chart's red and the models' colours", async () => {
    const report = writeReport(
      join(REPO_ROOT, "test", "fixtures", "events", "ours.jsonl"),
      join(workDir, "not-served.html"),
    );
    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    await page.goto(pathToFileURL(report).href);
    /** The colours Chromium drew for a mark (its pixels, as a screenshot of it has them), each as `r,g,b`. */
    const drawn = async (selector: string): Promise<string[]> => {
      const png: Buffer = await page.locator(selector).first().screenshot();
      return [
        ...new Set([...(await pngPixels(page, png)).keys()].map((color) => color.split(",").slice(0, 3).join(","))),
      ];
    };
    const reddish = (colors: string[]) =>
      colors.filter((color) => {
        const [r, g, b] = color.split(",").map(Number) as [number, number, number];
        return r > g + 60 && r > b + 60;
      });
    const failedOver = await drawn('svg#chart-failovers g.legend-item[data-series="failed-over"] rect');
    assert.ok(reddish(failedOver).length > 0, `requests failed over are red (${failedOver})`);
    // Before: "(not served)" took the palette's third colour, the same red as "requests failed over".
    for (const selector of [
      'svg#chart-daily-composition rect.bar[data-model="(not served)"]',
      'svg#chart-daily-composition g.legend-item[data-model="(not served)"] rect',
    ]) {
      const notServed = await drawn(selector);
      assert.deepEqual(reddish(notServed), [], `${selector} has no red (${notServed})`);
      const greys = notServed
        .filter((color) => new Set(color.split(",")).size === 1)
        .map((c) => Number(c.split(",")[0]));
      assert.ok(
        greys.some((grey) => grey < 110) && greys.some((grey) => grey > 190),
        `${selector} is hatched, dark on light grey (${notServed})`,
      );
    }
    // No served model is drawn in the failover red either.
    const models = await page.$$eval("svg#chart-daily-composition g.legend-item rect", (rects: Element[]) =>
      rects.map((rect) => rect.getAttribute("fill")),
    );
    assert.ok(models.length >= 3, String(models));
    assert.ok(!models.includes("#e15759"), String(models));
    await page.close();
  });

  it("keeps the cost chart's names and values inside the chart and shows costs below $0.0001 as they are", async () => {
    // The fixture's costs ($0.001-$0.02 an attempt) made a thousand times smaller, and one model with a name longer
    // than the names' column.
    const longName = `openai-codex/${"a-very-long-fine-tuned-model-name-".repeat(3)}v1`;
    const log = join(workDir, "auto-router.events.jsonl");
    writeFileSync(
      log,
      readFileSync(join(REPO_ROOT, "test", "fixtures", "events", "ours.jsonl"), "utf8")
        .replace(/"costUsd":([0-9.]+)/g, (_match, cost: string) => `"costUsd":${Number(cost) / 1000}`)
        .replaceAll("openai-codex/gpt-5.4-mini", longName),
    );
    const report = writeReport(log, join(workDir, "small-costs.html"));

    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    await page.goto(pathToFileURL(report).href);
    const chart: { width: number; texts: Array<{ text: string | null; left: number; right: number }> } =
      await page.evaluate(() => {
        const svg = document.querySelector("svg#chart-cost") as SVGSVGElement;
        const frame = svg.getBoundingClientRect();
        return {
          width: frame.width,
          texts: [...svg.querySelectorAll("text")].map((text) => {
            const box = text.getBoundingClientRect();
            return { text: text.textContent, left: box.left - frame.left, right: box.right - frame.left };
          }),
        };
      });
    assert.equal(chart.width, 760);
    for (const text of chart.texts) {
      assert.ok(
        text.left >= 0 && text.right <= chart.width,
        `"${text.text}" lies inside the chart: ${text.left.toFixed(1)}..${text.right.toFixed(1)} of ${chart.width}`,
      );
    }
    const values = chart.texts.map((text) => text.text).filter((text) => text?.includes(" / "));
    assert.ok(values.includes("$0.00002 / $0.00002"), values.join(", "));
    assert.ok(
      !values.some((text) => /\$0\.0000(?![0-9])/.test(text!)),
      `no cost shows as $0.0000: ${values.join(", ")}`,
    );
    await page.close();
  });

  it("fits a 400 px window and keeps the daily composition's long model names apart in its legend", async () => {
    // Hand-written lines in the current format (v3): 31 days, each day's requests served by four models whose names
    // are longer than a legend column, and 2,500 requests on the last day.
    const models = [
      "anthropic/claude-sonnet-4-6-extended-thinking-preview-20260501",
      "openrouter/meta-llama/llama-4-maverick-instruct-long-context-experimental",
      "google/gemini-3-flash-preview-with-an-even-longer-name",
      "openai-codex/gpt-5.3-codex",
    ];
    const lines: string[] = [];
    for (let day = 0; day < 31; day++) {
      for (let index = 0; index < (day === 30 ? 2500 : 4); index++) {
        const requestId = `d${day}-${index}`;
        const ts = new Date(Date.UTC(2026, 4, 1 + day, 9, 0, 0, index)).toISOString();
        const target = models[index % models.length]!;
        const result = { attempt: 1, target, outcome: "success", latencyMs: 900 + index };
        lines.push(
          JSON.stringify({ v: 3, type: "decision", ts, requestId, sessionId: "s", routeId: "main", data: {} }),
          JSON.stringify({
            v: 3,
            type: "final",
            ts,
            requestId,
            data: { outcome: "success", servedTarget: target, attempts: 1, failovers: 0 },
            steps: [
              { type: "attempt", ms: 0, data: { attempt: 1, target } },
              { type: "result", ms: 0, data: result },
            ],
          }),
        );
      }
    }
    const log = join(workDir, "month", "auto-router.events.jsonl");
    mkdirSync(dirname(log));
    writeFileSync(log, `${lines.join("\n")}\n`);
    const report = writeReport(log, join(workDir, "month.html"));

    for (const width of [400, 1280]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(pathToFileURL(report).href);
      const layout: {
        pageWidth: number;
        charts: Array<{ id: string; left: number; right: number; height: number }>;
        tables: Array<{ id: string; right: number; boxRight: number; scrolls: boolean }>;
        legend: Array<{ text: string | null; left: number; right: number; top: number }>;
      } = await page.evaluate(() => ({
        pageWidth: document.documentElement.scrollWidth,
        charts: [...document.querySelectorAll("svg.chart")].map((svg) => {
          const box = svg.getBoundingClientRect();
          return { id: svg.id, left: box.left, right: box.right, height: box.height };
        }),
        tables: [...document.querySelectorAll("table")].map((table) => {
          const box = table.parentElement!;
          return {
            id: table.id,
            right: table.getBoundingClientRect().right,
            boxRight: box.getBoundingClientRect().right,
            scrolls: box.scrollWidth > box.clientWidth && getComputedStyle(box).overflowX === "auto",
          };
        }),
        legend: [...document.querySelectorAll("#chart-daily-composition .legend-item text")].map((text) => {
          const box = text.getBoundingClientRect();
          return { text: text.textContent, left: box.left, right: box.right, top: Math.round(box.top) };
        }),
      }));
      // Nothing runs past the window's right edge: the page does not scroll sideways.
      assert.ok(layout.pageWidth <= width, `the page is ${layout.pageWidth} px wide in a ${width} px window`);
      for (const chart of layout.charts) {
        assert.ok(chart.right <= width, `${chart.id} ends at ${chart.right} in a ${width} px window`);
        assert.ok(chart.height > 0, `${chart.id} is drawn`);
        // At 1280 px the charts keep their full size.
        if (width === 1280) assert.equal(Math.round(chart.right - chart.left), 760, chart.id);
      }
      for (const table of layout.tables) {
        assert.ok(table.boxRight <= width, `${table.id}'s box ends at ${table.boxRight} in a ${width} px window`);
        // A table wider than the window scrolls in its own box.
        if (table.right > width) assert.ok(table.scrolls, `${table.id} scrolls sideways in its box`);
      }
      if (width === 400)
        assert.ok(
          layout.tables.some((table) => table.scrolls),
          "the per-day table is wider than 400 px: it scrolls in its box",
        );
      // No two legend names on one row overlap, and each stays inside the chart.
      const composition = layout.charts.find((chart) => chart.id === "chart-daily-composition")!;
      assert.equal(layout.legend.length, models.length);
      for (const name of layout.legend) {
        assert.ok(name.right <= composition.right, `"${name.text}" ends inside the chart`);
        for (const other of layout.legend)
          if (other !== name && other.top === name.top && other.left > name.left)
            assert.ok(name.right <= other.left, `"${name.text}" ends before "${other.text}" begins`);
      }
      assert.ok(
        layout.legend.some((name) => name.text?.endsWith("…")),
        `long names are shortened: ${layout.legend.map((name) => name.text).join(", ")}`,
      );
      await page.close();
    }
  });
});
