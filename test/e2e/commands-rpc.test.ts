// Every /auto-router subcommand through the real pi binary in RPC mode (stdin/stdout JSON lines), against local
// OpenAI-style emulators: its output must reach the RPC client as a `notify` (or, for long listings, a `setWidget`)
// extension UI request; pickers and confirmations arrive as dialogs the client answers.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeAgentDir } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { startRpc, type RpcClient } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { readLoggedEvents } from "../helpers/event-log.ts";

interface Shown {
  /** The notification text (for a widget listing: the short notice). */
  notice: string;
  level: string;
  /** The widget lines set by the command, if any. */
  widget?: string[];
  /** notice + widget lines. */
  text: string;
}

describe("/auto-router subcommands through pi --mode rpc", () => {
  let first: Emulator;
  let second: Emulator;
  let dir: ReturnType<typeof makeAgentDir>;
  let rpc: RpcClient;

  /** Sends the command as a prompt and waits for its notification (answering one dialog with `answer`). */
  async function run(command: string, answer?: (request: any) => object): Promise<Shown> {
    const from = rpc.lines.length;
    rpc.send({ type: "prompt", message: command });
    if (answer) {
      const dialog = await rpc.waitFor(
        (line) => line.type === "extension_ui_request" && (line.method === "select" || line.method === "confirm"),
      );
      rpc.send({ type: "extension_ui_response", id: dialog.id, ...answer(dialog) });
    }
    const notify = await rpc.waitFor(
      (line) => line.type === "extension_ui_request" && line.method === "notify",
      undefined,
      { sinceIndex: from },
    );
    const until = rpc.lines.indexOf(notify);
    const widget = rpc.lines
      .slice(from, until)
      .filter(
        (line) =>
          line.type === "extension_ui_request" && line.method === "setWidget" && line.widgetKey === "auto-router",
      )
      .at(-1);
    const widgetLines: string[] | undefined = widget?.widgetLines;
    return {
      notice: notify.message,
      level: notify.notifyType,
      widget: widgetLines,
      text: widgetLines ? `${notify.message}\n${widgetLines.join("\n")}` : notify.message,
    };
  }

  before(async () => {
    first = await startOpenAIEmulator({ name: "A" });
    second = await startOpenAIEmulator({ name: "B" });
    dir = makeAgentDir({
      providers: {
        "mock-a": {
          baseUrl: first.url,
          api: "openai-completions",
          apiKey: "sk-mock-a-key",
          models: [{ id: "model-a", cost: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 } }],
        },
        "mock-b": {
          baseUrl: second.url,
          api: "openai-completions",
          apiKey: "sk-mock-b-key",
          models: [{ id: "model-b", cost: { input: 3, output: 4, cacheRead: 0, cacheWrite: 0 } }],
        },
      },
      routes: {
        routes: {
          chain: {
            name: "Chain",
            sortBy: "config",
            targets: [
              { provider: "mock-a", modelId: "model-a" },
              { provider: "mock-b", modelId: "model-b" },
            ],
          },
          solo: { name: "Solo", targets: [{ provider: "mock-b", modelId: "model-b" }] },
        },
        aliases: { quick: "chain", bee: "mock-b/model-b" },
        policyRules: [
          {
            id: "no-a-at-night",
            type: "exclude-provider",
            providers: ["mock-a"],
            when: { timeWindow: { after: "23:00", before: "05:00" } },
            enabled: false,
          },
        ],
      },
    });
    rpc = await startRpc({ agentDir: dir.agentDir, args: ["--model", "auto-router/chain"] });
  });
  after(async () => {
    await rpc?.close();
    await Promise.all([first.close(), second.close()]);
    dir.cleanup();
  });

  it("lists /auto-router in get_commands", async () => {
    const response = await rpc.request({ type: "get_commands" });
    assert.equal(response.success, true, JSON.stringify(response));
    assert.ok(
      response.data.commands.some((command: any) => command.name === "auto-router"),
      JSON.stringify(response.data.commands),
    );
  });

  it("fails over from a 429 to the next target and names the serving target in the status line", async () => {
    first.enqueue({ status: 429, errorMessage: "Rate limit reached. Please try again in 60s.", retryAfterSeconds: 60 });
    second.enqueue({ text: "Hello from B." });
    await rpc.request({ type: "prompt", message: "Say hi" });
    const end = await rpc.waitFor((line) => line.type === "agent_end");
    const answer = end.messages.filter((message: any) => message.role === "assistant").at(-1);
    assert.equal(answer.provider, "mock-b", JSON.stringify(answer).slice(0, 600) + rpc.stderr);
    const statuses = rpc
      .uiRequests()
      .filter((line) => line.method === "setStatus" && line.statusKey === "auto-router")
      .map((line) => line.statusText);
    assert.ok(
      statuses.some((text: string) => /^⇄ chain .*→ mock-b\/model-b \(1 failover\)/.test(text)),
      statuses.join("\n"),
    );
  });

  it("runs every subcommand once and shows its output", async () => {
    const expectations: Array<[string, RegExp]> = [
      ["/auto-router", /last chain: served by mock-b\/model-b, 1 failover, /],
      [
        "/auto-router status",
        /config: .*auto-router\.routes\.json \(loaded\)[\s\S]*chain mock-a\/model-a: rate_limit, \d+s left/,
      ],
      [
        "/auto-router list",
        /1\s+model-a\s+mock-a\/model-a\s+cooldown \d+s \(rate_limit\)\s+API key\s+-\s+1\.00\/2\.00/,
      ],
      ["/auto-router show solo", /^auto-router\/solo — Solo\n#\s+target/],
      ["/auto-router search model-b", /mock-b\/model-b\s+model-b\s+yes\s+.*chain,solo/],
      ["/auto-router aliases", /quick\s+chain\s+auto-router\/chain\s+route, 2 targets$/m],
      ["/auto-router resolve bee", /^bee → mock-b\/model-b \(alias\): model, ready/],
      ["/auto-router test-resolve bee", /^bee → mock-b\/model-b \(alias\): model, ready/],
      ["/auto-router debug", /^report written to .*auto-router\.debug-report\.txt/],
      ["/auto-router models", /^2 models in 2 routes\n/],
      ["/auto-router explain", /on chain, \d+s ago, served by mock-b\/model-b after 1 failover$/m],
      [
        "/auto-router explain solo",
        /no request has been routed through solo in this pi process yet \(explain shows this process.s requests: in print mode, give it after the prompt/,
      ],
      ["/auto-router shortcuts", /@reasoning[\s\S]*@max-price=N/],
      ["/auto-router rules", /no-a-at-night: when 23:00-05:00 => exclude mock-a \(priority 0, all routes, disabled\)/],
      ["/auto-router reload", /reloaded .*auto-router\.routes\.json: 2 routes/],
      ["/auto-router reset breakers", /^0 open breakers closed\. The event log is never deleted\.$/],
      ["/auto-router reset latency", /^latency averages cleared\. The event log is never deleted\.$/],
      ["/auto-router reset cooldowns", /^1 cooldown cleared\. The event log is never deleted\.$/],
      ["/auto-router shadow", /^shadow mode: disabled/],
      ["/auto-router shadow enable", /^shadow mode enabled/],
      ["/auto-router shadow show", /^shadow mode: enabled/],
      ["/auto-router shadow disable", /^shadow mode disabled/],
      [
        "/auto-router rate good quick and right --tags fast",
        /^rated request \w{8} on chain good \("quick and right", tags fast\)\nmock-b\/model-b: 0 bad, 1 good/,
      ],
      ["/auto-router budget", /budget/i],
      ["/auto-router balance", /balance/i],
      ["/auto-router circuit", /^circuit breakers/],
      ["/auto-router uvi", /^quota pacing/],
      ["/auto-router help", /^\/auto-router subcommands:/],
      ["/auto-router switch solo", /^switched to auto-router\/solo$/],
      ["/auto-router switch quick", /^switched to auto-router\/chain \(alias quick\)$/],
    ];
    const ran = new Set<string>();
    for (const [command, expected] of expectations) {
      const shown = await run(command);
      assert.notEqual(shown.level, "error", `${command}: ${shown.text}`);
      assert.match(shown.text, expected, command);
      ran.add(command.split(" ")[1] ?? "status");
    }
    // Any subcommand the table above does not know yet (a plugin's) still runs and shows something that is no error.
    const help = await run("/auto-router help");
    // A subcommand's line starts with two spaces; a long description continues on lines indented further.
    const names = (help.widget ?? help.notice.split("\n"))
      .filter((line) => /^ {2}\S/.test(line))
      .map((line) => line.trim().split(/\s+/)[0]!);
    assert.ok(names.length >= 20, names.join(" "));
    for (const name of names.filter((n) => !ran.has(n) && !["show", "reset", "clear", "switch"].includes(n))) {
      const shown = await run(`/auto-router ${name}`);
      assert.notEqual(shown.level, "error", `${name}: ${shown.text}`);
      assert.ok(shown.text.trim().length > 0, name);
    }
    const state = await rpc.request({ type: "get_state" });
    assert.equal(`${state.data.model.provider}/${state.data.model.id}`, "auto-router/chain");
  });

  it("sends a long listing as a setWidget request with a short notice, and clear removes it", async () => {
    const shown = await run("/auto-router shortcuts");
    assert.ok(shown.widget && shown.widget.length > 12, shown.text);
    assert.match(
      shown.notice,
      /^Prompt shortcuts: .* \(\d+ lines shown above the editor; \/auto-router clear hides them\)$/,
    );
    const from = rpc.lines.length;
    await rpc.request({ type: "prompt", message: "/auto-router clear" });
    const cleared = await rpc.waitFor(
      (line) => line.type === "extension_ui_request" && line.method === "setWidget",
      undefined,
      { sinceIndex: from },
    );
    assert.equal(cleared.widgetKey, "auto-router");
    assert.equal(cleared.widgetLines, undefined);
  });

  it("opens a picker for show without a route and asks before reset all", async () => {
    const picked = await run("/auto-router show", (dialog) => {
      assert.equal(dialog.method, "select");
      assert.deepEqual(dialog.options, ["chain", "solo"]);
      return { value: "solo" };
    });
    assert.match(picked.text, /^auto-router\/solo — Solo/);
    const reset = await run("/auto-router reset all", (dialog) => {
      assert.equal(dialog.method, "confirm");
      assert.match(dialog.message, /The event log is kept/);
      return { confirmed: true };
    });
    assert.match(
      reset.text,
      /^(?:1 cooldown|\d+ cooldowns) cleared; latency averages cleared; 0 revert holds cleared; 0 open breakers closed\. The event log is never deleted\.$/,
    );
  });

  it("sends a table as an info notification and its warning as a warning of its own, not a table under 'Warning:'", async () => {
    await run("/auto-router budget set mock-a 1 monthly");
    const from = rpc.lines.length;
    rpc.send({ type: "prompt", message: "/auto-router budget set mock-a 5" });
    const warning = await rpc.waitFor(
      (line) => line.type === "extension_ui_request" && line.method === "notify" && line.notifyType === "warning",
      undefined,
      { sinceIndex: from },
    );
    assert.match(
      warning.message,
      /^mock-a: \$5.00 a day is more than the monthly limit of \$1.00, so it never blocks anything/,
    );
    assert.doesNotMatch(warning.message, /\n/, "one line, no table");
    const before = rpc.lines.slice(from, rpc.lines.indexOf(warning));
    const report = before.filter(
      (line) =>
        line.type === "extension_ui_request" &&
        (line.method === "notify" || (line.method === "setWidget" && line.widgetKey === "auto-router")),
    );
    const shown = report.map((line) => line.message ?? (line.widgetLines ?? []).join("\n")).join("\n");
    assert.match(shown, /daily budget for mock-a set to \$5\.00/);
    assert.match(shown, /^mock-a\s+today\s/m);
    for (const line of report.filter((line) => line.method === "notify")) assert.equal(line.notifyType, "info");
    await run("/auto-router budget clear mock-a");
  });

  it("answers an unknown subcommand with an error and the list", async () => {
    const shown = await run("/auto-router frobnicate");
    assert.equal(shown.level, "error");
    assert.match(shown.text, /unknown subcommand "frobnicate"[\s\S]*switch <route\|alias\|provider\/model>/);
  });

  it("logs the rating as a feedback event pointing at the served request", async () => {
    const { code } = await rpc.close();
    assert.equal(code, 0, rpc.stderr);
    const events = readLoggedEvents(dir.agentDir);
    const feedback = events.filter((event) => event.type === "feedback");
    assert.equal(feedback.length, 1);
    const served = events.find((event) => event.type === "decision");
    assert.deepEqual(feedback[0].data, {
      rating: "good",
      reason: "quick and right",
      tags: ["fast"],
      ratedRequestId: served.requestId,
      servedTarget: "mock-b/model-b",
      routeId: "chain",
    });
  });
});
