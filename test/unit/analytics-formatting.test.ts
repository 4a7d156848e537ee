import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BucketCounter, ValueSample } from "../../src/analytics/percentiles.ts";
import {
  dayKey,
  formatBar,
  formatDuration,
  formatTimeLeft,
  formatPercent,
  formatStackedBar,
  formatTable,
  formatUsd,
  formatUtcTime,
  plural,
} from "../../src/analytics/text-format.ts";

describe("value sample percentiles", () => {
  it("gives exact nearest-rank percentiles while under capacity", () => {
    const sample = new ValueSample();
    for (const value of [50, 10, 40, 20, 30, 60, 70, 80, 90, 100]) sample.add(value);
    assert.deepEqual(
      [sample.percentile(50), sample.percentile(90), sample.percentile(100), sample.percentile(0)],
      [50, 90, 100, 10],
    );
    assert.equal(sample.count, 10);
    assert.equal(sample.sum, 550);
  });

  it("keeps at most its capacity of values and still estimates the median of a large uniform stream", () => {
    const sample = new ValueSample(1_000, 7);
    for (let value = 1; value <= 100_000; value++) sample.add(value);
    assert.equal(sample.count, 100_000);
    const median = sample.percentile(50)!;
    assert.ok(median > 45_000 && median < 55_000, `median estimate ${median}`);
  });

  it("ignores non-finite values and has no percentile when empty", () => {
    const sample = new ValueSample();
    sample.add(Number.NaN);
    assert.equal(sample.percentile(50), undefined);
    assert.equal(sample.count, 0);
  });
});

describe("bucket counter", () => {
  it("puts a value on a bound into the upper bucket and labels the edges", () => {
    const buckets = new BucketCounter([1, 10]);
    for (const value of [0, 1, 9.9, 10, 50]) buckets.add(value);
    assert.deepEqual(buckets.counts, [1, 2, 2]);
    assert.deepEqual(buckets.labels(String), ["<1", "1-10", ">=10"]);
  });
});

describe("text formatting", () => {
  it("says a count with its noun, singular for one, and a fraction with every digit it has", () => {
    assert.deepEqual(
      [plural(1, "request"), plural(0, "request"), plural(1234, "request"), plural(2, "switch", "switches")],
      ["1 request", "0 requests", "1,234 requests", "2 switches"],
    );
    assert.equal(plural(0.0001, "day"), "0.0001 days");
    assert.equal(plural(0.5, "day"), "0.5 days");
    // Small whole counts take a shortcut past the formatter: they read as it would write them.
    assert.deepEqual(
      [plural(999, "call"), plural(1000, "call"), plural(-2, "call"), plural(1.5, "call"), plural(12_345_678, "call")],
      ["999 calls", "1,000 calls", "-2 calls", "1.5 calls", "12,345,678 calls"],
    );
  });

  it("aligns table columns and right-aligns the ones asked for", () => {
    assert.equal(
      formatTable(
        ["name", "n"],
        [
          ["a", "1"],
          ["bbb", "22"],
        ],
        ["left", "right"],
      ),
      "name   n\n----  --\na      1\nbbb   22",
    );
  });

  it("draws bars with eighth-cell precision and clamps out-of-range fractions", () => {
    assert.equal(formatBar(0.5, 4), "██  ");
    assert.equal(formatBar(0.25, 2), "▌ ");
    assert.equal(formatBar(0.0625, 2), "▏ ");
    assert.equal(formatBar(2, 3), "███");
    assert.equal(formatBar(Number.NaN, 2), "  ");
  });

  it("fills a stacked bar exactly to its width, giving rounding to the largest remainders", () => {
    const bar = formatStackedBar([1, 1, 1], 10);
    assert.equal(bar.length, 10);
    assert.equal(bar, "████▓▓▓▒▒▒");
    assert.equal(formatStackedBar([0, 0], 4), "    ");
  });

  it("formats shares, money, durations and UTC days", () => {
    assert.equal(formatPercent(0.4256), "42.6%");
    assert.equal(formatPercent(undefined), "-");
    // Only all is 100.0% and only none 0.0%: one failure or failover in 10,000 is not rounded away.
    assert.deepEqual([1, 9_999 / 10_000, 0.999, 1 / 10_000, 0.001, 0].map(formatPercent), [
      "100.0%",
      ">99.9%",
      "99.9%",
      "<0.1%",
      "0.1%",
      "0.0%",
    ]);
    assert.deepEqual(
      [formatUsd(0), formatUsd(0.0012), formatUsd(1.5), formatUsd(undefined)],
      ["$0", "$0.0012", "$1.50", "-"],
    );
    // Budget listings keep small per-request spend visible; explanations show an estimate to a tenth of a cent.
    assert.deepEqual(
      [
        formatUsd(0, "spend"),
        formatUsd(0.001, "spend"),
        formatUsd(1.234, "spend"),
        formatUsd(1.5, "spend"),
        formatUsd(123.456, "spend"),
      ],
      ["$0.00", "$0.001", "$1.234", "$1.50", "$123.46"],
    );
    // Below a tenth of a cent: two significant digits, never "$0.00" for an amount that is not zero.
    assert.deepEqual(
      [formatUsd(0.00001, "spend"), formatUsd(0.000012345, "spend"), formatUsd(0.0001, "spend")],
      ["$0.00001", "$0.000012", "$0.0001"],
    );
    // Between $0.0001 and $0.001 too: $0.000141 is not shown as the $0.0001 limit it passed by 41%.
    assert.deepEqual(
      [formatUsd(0.000141, "spend"), formatUsd(0.000141), formatUsd(0.000999, "estimate"), formatUsd(0.00095, "spend")],
      ["$0.00014", "$0.00014", "$0.001", "$0.00095"],
    );
    // The scripts' reports too (text tables and the HTML charts), rounded: a cost that is not zero never shows as $0.0000.
    assert.deepEqual(
      [formatUsd(0.00001), formatUsd(0.0000129), formatUsd(0.00000049), formatUsd(0.0001), formatUsd(-0.00002)],
      ["$0.00001", "$0.000013", "$0.00000049", "$0.0001", "-$0.00002"],
    );
    assert.deepEqual(
      [
        formatUsd(0.0012, "estimate"),
        formatUsd(1.5, "estimate"),
        formatUsd(0.0000123, "estimate"),
        formatUsd(0, "estimate"),
      ],
      ["$0.0012", "$1.500", "$0.000012", "$0"],
    );
    // Thousands separated in the reports, as their counts are (a busy gateway's month): "$1,049,382.64".
    assert.deepEqual(
      [formatUsd(999.994), formatUsd(999.996), formatUsd(12_345.678), formatUsd(1_049_382.64), formatUsd(-2500)],
      ["$999.99", "$1,000.00", "$12,345.68", "$1,049,382.64", "-$2,500.00"],
    );
    // The reports' time columns are UTC, whatever offset a line was written with.
    assert.deepEqual(
      ["2026-05-01T11:30:00.000Z", "2026-05-01T07:30:00-04:00", "2026-05-02T01:00:00+14:00"].map(formatUtcTime),
      ["2026-05-01 11:30:00", "2026-05-01 11:30:00", "2026-05-01 11:00:00"],
    );
    // A difference that fell: the sign before the dollar (replay's "(-$0.0085)").
    assert.deepEqual(
      [formatUsd(-0.0085), formatUsd(-1.5), formatUsd(-0.25, "spend"), formatUsd(-0.0012, "estimate")],
      ["-$0.0085", "-$1.50", "-$0.25", "-$0.0012"],
    );
    assert.deepEqual(
      [850, 2500, 42_000].map((ms) => formatDuration(ms, "latency")),
      ["850ms", "2.50s", "42.0s"],
    );
    // Ages and countdowns: whole seconds, minutes from 90 s, hours and minutes from 90 min; never negative.
    assert.deepEqual(
      [-5_000, 89_000, 90_000, 89 * 60_000, 90 * 60_000, 185 * 60_000].map((ms) => formatDuration(ms)),
      ["0s", "89s", "2m", "89m", "1h30m", "3h05m"],
    );
    // A monthly window's reset in days and hours (it read `622h03m`), from 72 h.
    assert.deepEqual(
      [71 * 3_600_000 + 59 * 60_000, 72 * 3_600_000, 622 * 3_600_000 + 3 * 60_000].map((ms) => formatDuration(ms)),
      ["71h59m", "3d00h", "25d22h"],
    );
    // Time left rounds up at every step: a rest still running never reads 0s, nor a day less than is left.
    assert.deepEqual(
      [300, 89_100, 89 * 60_000 + 1, 71 * 3_600_000 + 59 * 60_000 + 1, 80 * 3_600_000 + 1, 0, -5].map(formatTimeLeft),
      ["1s", "2m", "1h30m", "3d00h", "3d09h", "0s", "0s"],
    );
    assert.equal(formatDuration(undefined), "-");
    assert.equal(dayKey(Date.parse("2026-05-01T23:59:59.999Z")), "2026-05-01");
  });
});
