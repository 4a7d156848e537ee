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

const missing = [existsSync(CHROMIUM) ? undefined : CHROMIUM, playwrightAvailable() ? undefined : "playwright-core"]
  .filter(Boolean)
  .join(" and ");
const inCi = process.env.CI === "true" || process.env.CI === "1";

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
    const inked = await page.evaluate(async (base64: string) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d")!;
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height).data;
      const colors = new Set<number>();
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0 || (data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245)) continue;
        count++;
        colors.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      }
      return { count, colors: colors.size, total: data.length / 4 };
    }, screenshot.toString("base64"));
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
    const report = join(workDir, "one-day.html");
    const run = spawnSync(
      process.execPath,
      [join(REPO_ROOT, "scripts", "routing-session-stats.mjs"), "--file", log, "--html", report],
      { encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stderr);

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
    const report = join(workDir, "small-costs.html");
    const run = spawnSync(
      process.execPath,
      [join(REPO_ROOT, "scripts", "routing-session-stats.mjs"), "--file", log, "--html", report],
      { encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stderr);

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
});
