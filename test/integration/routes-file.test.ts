// The routes file through real pi (the SDK with the real extension): a file removed while pi runs keeps its routes
// and is reported once (notice, status line, /auto-router status) until it is back; and what is wrong in a file is
// said with the file, line and column: a key written twice, a time zone that does not exist, a misspelt failure kind,
// a JSON syntax error V8 gives no position for, a rule naming a provider no route has. (pi's UI labels a notice's
// level itself, so the notices read without the "warning: " / "error: " that the same lines carry on stderr.)
import assert from "node:assert/strict";
import { unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROUTES_FILE_NAME, routeInOrder } from "../helpers/agent-dir.ts";
import type { SdkHarness } from "../helpers/sdk-harness.ts";
import { harnessPerTest } from "../helpers/sdk-harness.ts";

const TARGETS = [
  { provider: "mock-a", models: [{ id: "model-a" }] },
  { provider: "mock-b", models: [{ id: "model-b" }] },
];
const ROUTES = { routes: { main: routeInOrder("mock-a/model-a"), second: routeInOrder("mock-b/model-b") } };

const harnesses = harnessPerTest();

/** Waits for the file poll to report (it runs every 1.5 s); fails with what was said if it never does. */
async function noticeMatching(h: SdkHarness, pattern: RegExp, from = 0): Promise<void> {
  const deadline = Date.now() + 15_000;
  const found = () => h.ui!.notifications.slice(from).some((n) => pattern.test(n.message));
  while (!found() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(found(), `no notice matching ${pattern}; got:\n${h.ui!.notifications.map((n) => n.message).join("\n")}`);
}

describe("the routes file through pi", () => {
  it("keeps the routes of a file removed while pi runs, says so once, and loads it again when it is back", async () => {
    const h = await harnesses.start({ targets: TARGETS, routes: ROUTES }, "fix-cfg-removed");
    const file = join(h.agentDir, "extensions", ROUTES_FILE_NAME);
    await h.setModel("auto-router", "second");
    unlinkSync(file);
    await noticeMatching(h, /was removed/);
    const removed = () => h.ui!.notifications.filter((n) => n.message.includes("was removed"));
    assert.deepEqual(
      removed().map((n) => [n.message, n.level]),
      [[`auto-router: ${file} was removed; keeping the routes it had (2 routes) until it is back`, "warning"]],
    );
    assert.match(h.ui!.statuses.get("auto-router") ?? "", /routes file removed/);

    h.faux("mock-b").setResponses([h.fauxHelpers.fauxAssistantMessage("still routed")]);
    await h.prompt("hello");
    assert.equal(h.lastAssistant().provider, "mock-b", "the route of the removed file still serves");
    const status = await h.command("/auto-router status");
    assert.match(status, /config: .*auto-router\.routes\.json \(REMOVED, keeping the last good config \(2 routes\)/);
    assert.match(status, /routes: main, second/);

    writeFileSync(file, JSON.stringify({ routes: { second: routeInOrder("mock-a/model-a") } }));
    await noticeMatching(h, /routes file reloaded/);
    assert.equal(removed().length, 1, "said once, not at every poll");
    assert.doesNotMatch(h.ui!.statuses.get("auto-router") ?? "", /routes file removed/);
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("from the file again")]);
    await h.prompt("hello again");
    assert.equal(h.lastAssistant().provider, "mock-a", "the file that came back is in use");
  });

  it("shows and clears a rule's warning on the status line as the file is edited, without waiting for a request", async () => {
    const h = await harnesses.start({ targets: TARGETS, routes: ROUTES }, "fix-cfg-rule-warning");
    const file = join(h.agentDir, "extensions", ROUTES_FILE_NAME);
    await h.setModel("auto-router", "main");
    h.faux("mock-a").setResponses([h.fauxHelpers.fauxAssistantMessage("one")]);
    await h.prompt("hello");
    const line = () => h.ui!.statuses.get("auto-router") ?? "";
    assert.doesNotMatch(line(), /in no route/);
    const rule = { id: "typo", type: "exclude-provider", providers: ["mock-bb"] };
    writeFileSync(file, JSON.stringify({ ...ROUTES, policyRules: [rule] }));
    await noticeMatching(h, /routes file reloaded/);
    assert.match(line(), /provider mock-bb in no route/);
    const reloads = h.ui!.notifications.length;
    writeFileSync(file, JSON.stringify(ROUTES));
    await noticeMatching(h, /routes file reloaded/, reloads);
    assert.doesNotMatch(line(), /in no route/, "gone with the rule, before any request");
    // A route removed since its last request is said to be gone in status.
    const removedAt = h.ui!.notifications.length;
    writeFileSync(file, JSON.stringify({ routes: { second: ROUTES.routes.second } }));
    await noticeMatching(h, /routes file reloaded/, removedAt);
    assert.match(await h.command("/auto-router status"), /^last main \(route no longer in the routes file\): /m);
  });

  it("says what is wrong with the file, with its line and column, on reload", async () => {
    const h = await harnesses.start({ targets: TARGETS, routes: ROUTES }, "fix-cfg-issues");
    const file = join(h.agentDir, "extensions", ROUTES_FILE_NAME);
    const reload = async (lines: string[]) => {
      writeFileSync(file, lines.join("\n"));
      return h.command("/auto-router reload");
    };
    const target = (provider: string) => `{"provider": "${provider}", "modelId": "model-a"}`;

    let said = await reload([
      '{"routes": {',
      `  "main": {"targets": [${target("mock-a")}]},`,
      `  "second": {"targets": [${target("mock-b")}]},`,
      `  "main": {"targets": [${target("mock-b")}]}`,
      "}}",
    ]);
    assert.ok(
      said.includes(
        `${file}:4:3 at routes.main: defined twice (first at line 2); the later definition is used and the first is ignored`,
      ),
      said,
    );

    said = await reload([
      `{"routes": {"main": {"targets": [${target("mock-a")}]}},`,
      ' "failover": {"kinds": {"ratelimit": {"cooldownMs": 1000}}},',
      ' "budgets": {"timeZone": "Mars/Olympus"}}',
    ]);
    assert.ok(
      said.includes(`${file}:2:25 at failover.kinds.ratelimit: unknown key (ignored); did you mean "rate_limit"?`),
      said,
    );
    assert.ok(
      said.includes(
        `${file}:3:26 at budgets.timeZone: unknown time zone "Mars/Olympus"; expected an IANA name such as "Europe/Berlin" or "UTC"`,
      ),
      said,
    );
    // pi labels the notification by its level and reads its first line as the headline: the error leads, not the
    // warning above it in the file ("Error: warning: ..." before).
    const invalid = h.ui!.notifications.filter((n) => n.message.includes("Mars/Olympus")).at(-1);
    assert.equal(invalid?.level, "error");
    // Its own label dropped (pi's says it), each line begins `auto-router: ` as the extension's other notices do.
    assert.ok(
      invalid!.message.startsWith(`auto-router: ${file}:3:26 at budgets.timeZone: unknown time zone "Mars/Olympus"`),
      invalid!.message,
    );
    assert.ok(
      invalid!.message.includes(`\nauto-router: warning: ${file}:2:25 at failover.kinds.ratelimit: unknown key`),
      invalid!.message,
    );

    said = await reload([
      `{"routes": {"main": {"targets": [${target("mock-a")}],`,
      '  "policyRules": [{"type": "exclude-provider", "providers": ["mock-b"], "tier": "fast"}]}}}',
    ]);
    assert.ok(
      said.includes(
        `${file}:2:81 at routes.main.policyRules[0].tier: does nothing on an exclude-provider rule (it is read by force-tier rules); to apply the rule on a tier only, write \`when: { tier: ... }\``,
      ),
      said,
    );

    said = await reload([`{"routes": {"main": {"targets": [`, `  ${target("mock-a")}, ]}}}`]);
    assert.ok(
      said
        .split("\n")
        .some((line) =>
          line.endsWith(`${file}:2:49: not valid JSON: Unexpected token ']' (JSON allows no comma before it)`),
        ),
      said,
    );
    const status = await h.command("/auto-router status");
    assert.match(status, /^ {2}error: line 2, column 49: not valid JSON: Unexpected token/m);
    assert.doesNotMatch(status, /\(file\)/);

    const from = h.ui!.notifications.length;
    await reload([
      `{"routes": {"main": {"targets": [${target("mock-a")}, ${target("antropic")}]}},`,
      ' "policyRules": [{"id": "c", "type": "exclude-provider", "providers": ["nowhere"]}]}',
    ]);
    await h.command("/auto-router status"); // where strategies that do nothing are worked out, and said once
    const notices = h.ui!.notifications.slice(from).map((n) => n.message);
    assert.ok(
      notices.includes(
        `auto-router: ${file}:1:80 at routes.main.targets[1]: provider 'antropic' is not known to pi; did you mean 'anthropic'?`,
      ),
      notices.join("\n"),
    );
    assert.ok(
      notices.includes(
        `auto-router: ${file}:2:72: policyRules[0] (c) names the provider "nowhere", which no route has: it never matches anything`,
      ),
      notices.join("\n"),
    );
  });

  /** A harness on ROUTES and a function that writes the routes file and runs /auto-router reload. */
  const startReloading = async (prefix: string) => {
    const h = await harnesses.start({ targets: TARGETS, routes: ROUTES }, prefix);
    const file = join(h.agentDir, "extensions", ROUTES_FILE_NAME);
    const reload = async (lines: string[]) => {
      writeFileSync(file, lines.join("\n"));
      return h.command("/auto-router reload");
    };
    return { h, file, reload };
  };
  const WITH_COMMENT = [
    '{"routes": {"main": {"targets": [',
    '  {"provider": "mock-b", "modelId": "model-b"}   // from models.json',
    "]}}}",
  ];

  it("says a // comment is not allowed in the file, with its line and column, on reload", async () => {
    const { file, reload } = await startReloading("fix-cfg-comment");
    const said = await reload(WITH_COMMENT);
    assert.ok(
      said
        .split("\n")
        .some((line) =>
          line.endsWith(
            `${file}:2:50: not valid JSON: Expected ',' or ']' after array element (comments are not allowed in this JSON file; write a note as a "_comment" key)`,
          ),
        ),
      said,
    );
  });

  it("rejects eventLog.keepFiles 0 on reload, naming file, place and what is expected, and keeps the last good config", async () => {
    const { file, reload } = await startReloading("fix-cfg-keep-files");
    const said = await reload([
      '{"routes": {"main": {"targets": [{"provider": "mock-b", "modelId": "model-b"}]}},',
      ' "eventLog": {"keepFiles": 0}}',
    ]);
    assert.ok(
      said.includes(
        `${file}:2:28 at eventLog.keepFiles: expected at least 1: how many rotated files are kept (set \`enabled: false\` for no event log)`,
      ),
      said,
    );
    assert.match(said, /is invalid; keeping the last good config/);
  });

  it("names a number written as text on reload, with the number to write", async () => {
    const { file, reload } = await startReloading("fix-cfg-number-text");
    const said = await reload([
      '{"routes": {"main": {"targets": [{"provider": "mock-b", "modelId": "model-b"}]}},',
      ' "budgets": {"providers": {"mock-b": {"daily": "$5"}}}}',
    ]);
    assert.ok(
      said.includes(
        `${file}:2:48 at budgets.providers.mock-b.daily: expected a number, got the text "$5": write 5, without quotes`,
      ),
      said,
    );
  });

  it("says which settings read at start an edit changed, and that they take effect after pi's /reload", async () => {
    const { reload } = await startReloading("fix-cfg-start-settings");
    const main = '{"routes": {"main": {"targets": [{"provider": "mock-b", "modelId": "model-b"}]}}';
    const said = await reload([`${main},`, ' "state": {"machine": "laptop-2"}, "eventLog": {"maxBytes": 4096}}']);
    assert.match(
      said,
      /reloaded .*auto-router\.routes\.json: 1 route; state\.machine changed: it takes effect after pi's \/reload$/m,
      "the event log's settings apply at once",
    );
    // Back to the values in use: nothing waits for a reload any more.
    assert.match(await reload([`${main}}`]), /reloaded .*auto-router\.routes\.json: 1 route$/m);
  });

  it("lists the last good routes after an invalid edit, first saying the file is invalid and where", async () => {
    const { h, file, reload } = await startReloading("fix-cfg-list");
    await reload(WITH_COMMENT);
    // The reload itself failed: an error (pi -p exits 1 on it), not a report.
    const reloaded = h.ui!.notifications.find((n) => /INVALID, keeping the last good config; 1 error/.test(n.message));
    assert.equal(reloaded?.level, "error");
    const before = h.ui!.notifications.length;
    const listed = await h.command("/auto-router list");
    assert.ok(
      listed.startsWith(`auto-router: ${file}:2:50: not valid JSON: Expected ',' or ']' after array element`),
      listed,
    );
    assert.match(
      listed,
      /; INVALID, keeping the last good config\n[\s\S]*auto-router\/main \(sortBy config\)\n[\s\S]*mock-a\/model-a/,
    );
    // The notice is a warning of its own, the listing a report (pi's TUI puts "Warning:" before a warning's text).
    // (The reload's error notice begins with the same words: the list's is among those after it.)
    const notice = h.ui!.notifications.slice(before).find((n) => n.message.startsWith(`auto-router: ${file}:2:50`));
    assert.equal(notice?.level, "warning");
    assert.match(notice!.message, /; INVALID, keeping the last good config$/);
    const listing = h.ui!.notifications.find((n) => /auto-router\/main \(sortBy config\)/.test(n.message));
    assert.equal(listing?.level, "info");
  });
});
