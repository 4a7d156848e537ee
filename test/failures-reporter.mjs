// A node:test reporter that writes only the failed tests, each with its file, its error and where it was thrown.
// test/run-tests.mjs prints this after the TAP output, so the end of a long run (all a CI record may keep) names
// what failed instead of only counting it.
import { readFileSync } from "node:fs";

// test/run-tests.mjs runs each file through a numbered entry (so that the files start in its order): name the file.
const entryFiles = process.env.RUN_TESTS_ENTRIES ? JSON.parse(readFileSync(process.env.RUN_TESTS_ENTRIES, "utf8")) : {};

const indent = (text, by) =>
  String(text)
    .split("\n")
    .map((line) => `${by}${line}`)
    .join("\n");

export default async function* failures(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== "test:fail") continue;
    const { name, file, details } = event.data;
    const error = details?.error;
    // A suite fails when one of its tests does: the test itself is reported on its own.
    if (error?.failureType === "subtestsFailed") continue;
    const cause = error?.cause ?? error;
    const message = cause instanceof Error ? cause.message : String(cause);
    const where = (cause?.stack ?? "")
      .split("\n")
      .filter((line) => /^\s+at /.test(line) && !line.includes("node:"))
      .slice(0, 3)
      .map((line) => line.trim())
      .join("\n");
    failed.push(
      [
        `✖ ${name}`,
        `  file: ${entryFiles[file] ?? file ?? "?"}`,
        `  ${details?.duration_ms !== undefined ? `after ${Math.round(details.duration_ms)} ms: ` : ""}${error?.failureType ?? "failed"}`,
        indent(message.slice(0, 2000), "  | "),
        where ? indent(where, "  ") : "",
      ]
        .filter(Boolean)
        .join("\n"),
    );
  }
  yield failed.length ? `${failed.length} failed:\n\n${failed.join("\n\n")}\n` : "";
}
