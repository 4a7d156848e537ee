// Where the extension's warnings go: pi's notification already names the level, so the text does not name it again.
import assert from "node:assert/strict";
import { it } from "node:test";
import { WarningSink, withoutLevelLabel } from "../../src/ui/warning-sink.ts";

it("drops a warning's or an error's own level label in a notification, where pi shows `Warning:` or `Error:`", () => {
  const notified: Array<[string, string | undefined]> = [];
  const stderr: string[] = [];
  const sink = new WarningSink((text) => void stderr.push(text));
  sink.attach({ hasUI: true, ui: { notify: (message, level) => void notified.push([message, level]) } });
  sink.warn("error: /x/auto-router.routes.json:8:23 at routes.a: expected array\nauto-router: /x is invalid", "error");
  sink.warn(
    "auto-router: warning: /x/auto-router.routes.json at routes.a.targets[0]: provider 'mock-alpah' is not known",
  );
  sink.warn("warning: a warning's label stays on an error", "error");
  assert.deepEqual(notified, [
    ["/x/auto-router.routes.json:8:23 at routes.a: expected array\nauto-router: /x is invalid", "error"],
    ["auto-router: /x/auto-router.routes.json at routes.a.targets[0]: provider 'mock-alpah' is not known", "warning"],
    ["warning: a warning's label stays on an error", "error"],
  ]);
  assert.deepEqual(stderr, []);
  sink.close();
});

it("keeps the label on stderr, where nothing else says it is a warning", () => {
  const stderr: string[] = [];
  const sink = new WarningSink((text) => void stderr.push(text));
  sink.attach({ hasUI: false, ui: { notify: () => assert.fail("no UI") } });
  sink.warn("auto-router: warning: /x at routes.a: unknown");
  assert.deepEqual(stderr, ["auto-router: warning: /x at routes.a: unknown\n"]);
  assert.equal(withoutLevelLabel("error: broken", "info"), "error: broken");
  sink.close();
});
