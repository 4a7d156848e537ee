// Command texts echo user input and provider messages; a key in either must not reach a notification or widget
// (found by reliability/secrets.ts: `rate bad <reason with a key>` and `budget set <key> 5` echoed the key).
import assert from "node:assert/strict";
import { it } from "node:test";
import { commandOutput, MAX_NOTIFY_LINES } from "../../src/commands/output.ts";

// Built at run time so no key-shaped literal is committed.
const key = ["sk", "proj", "Q7".repeat(12)].join("-");

it("redacts a key in notifications, errors and widget lines before they reach the UI", () => {
  const notified: string[] = [];
  const widgets: string[][] = [];
  // Both forms of the widget: the lines RPC clients get and the component the TUI renders.
  const setWidget = (_key: string, content: string[] | (() => { render(width: number): string[] }) | undefined) =>
    void (content && widgets.push(typeof content === "function" ? content().render(200) : content));
  const output = commandOutput({ hasUI: true, ui: { notify: (text) => notified.push(text), setWidget } });
  output.info(`rated bad: leaked ${key}`);
  output.error(`unknown provider ${key}`);
  output.warn(Array.from({ length: MAX_NOTIFY_LINES + 1 }, (_, index) => `line ${index} ${key}`).join("\n"));
  const shown = [...notified, ...widgets.flat()].join("\n");
  assert.ok(notified.length === 3 && widgets.length === 2);
  assert.ok(!shown.includes(key.slice(8)), shown);
  assert.match(notified[0]!, /rated bad: leaked \[REDACTED\]/);
});
