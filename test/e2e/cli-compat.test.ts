// The router through the real pi binary on any pi line: print, JSON and RPC modes plus --list-models, against
// two OpenAI emulators. Only behaviour every supported pi version shares is asserted (error text is matched by
// status plus message, since 0.73.1 prints "429 <message>" and newer pi "429: {json}"), so
// test/compat/run-matrix.sh runs this same file with PI_CLI/PI_NODE on 0.73.1, 0.87.1 and 1.6.0.
// One pi process per scenario, each in a fresh agent dir: cooldowns written by one scenario never reach the next.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXTENSION_ENTRY, makeAgentDir, type ProviderSpec, REPO_ROOT, routeInOrder } from "../helpers/agent-dir.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { runPi } from "../helpers/pi-cli.ts";
import { startRpc } from "../helpers/rpc-client.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";

const KEY_A = "sk-compat-a";
const KEY_B = "sk-compat-b";

const ROUTES = {
  routes: {
    main: {
      name: "Compat main",
      sortBy: "config",
      targets: [
        { provider: "mock-a", modelId: "model-a" },
        { provider: "mock-b", modelId: "model-b" },
      ],
    },
    reverse: routeInOrder("mock-b/model-b", "mock-a/model-a"),
  },
};

let emulatorA: Emulator;
let emulatorB: Emulator;
const cleanups: Array<() => void> = [];

function providers(): Record<string, ProviderSpec> {
  const model = (id: string) => ({ id, contextWindow: 128_000, maxTokens: 4_096 });
  return {
    "mock-a": { baseUrl: emulatorA.url, api: "openai-completions", apiKey: KEY_A, models: [model("model-a")] },
    "mock-b": { baseUrl: emulatorB.url, api: "openai-completions", apiKey: KEY_B, models: [model("model-b")] },
  };
}

function freshAgentDir(): string {
  const { agentDir, cleanup } = makeAgentDir({ providers: providers(), routes: ROUTES });
  cleanups.push(cleanup);
  return agentDir;
}

const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));

describe("the router through the pi CLI (version-independent)", () => {
  before(async () => {
    [emulatorA, emulatorB] = await Promise.all([
      startOpenAIEmulator({ name: "A" }),
      startOpenAIEmulator({ name: "B" }),
    ]);
  });
  afterEach(() => {
    emulatorA.reset();
    emulatorB.reset();
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  after(async () => {
    await Promise.all([emulatorA.close(), emulatorB.close()]);
  });

  it("fails over to B in print mode when A answers 429, and calls B with B's own key", async () => {
    emulatorA.enqueue({ status: 429 });
    const run = await runPi({ agentDir: freshAgentDir(), args: ["--model", "auto-router/main", "-p", "Say hi"] });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Hello from B (call 1).");
    assert.equal(emulatorA.calls.length, 1);
    assert.equal(emulatorB.calls.length, 1);
    assert.equal(emulatorB.calls[0]!.headers.authorization, `Bearer ${KEY_B}`);
    assert.equal(emulatorA.calls[0]!.headers.authorization, `Bearer ${KEY_A}`);
  });

  it("names the target that answered (mock-b) in the assistant message_end of JSON mode after a failover", async () => {
    emulatorA.enqueue({ status: 429 });
    const run = await runPi({
      agentDir: freshAgentDir(),
      args: ["--model", "auto-router/main", "--mode", "json", "Say hi"],
    });
    assert.equal(run.code, 0, run.stderr);
    const end = jsonLines(run.stdout).find(
      (event) => event.type === "message_end" && event.message?.role === "assistant",
    );
    assert.ok(end, `no assistant message_end in:\n${run.stdout}`);
    assert.equal(end.message.provider, "mock-b");
    assert.equal(end.message.model, "model-b");
    assert.deepEqual(
      end.message.content.filter((block: any) => block.type === "text").map((block: any) => block.text),
      ["Hello from B (call 1)."],
    );
  });

  it("does not fail over on a 400: exits 1 with the target's own error and never calls B", async () => {
    emulatorA.enqueue({ status: 400 });
    const run = await runPi({ agentDir: freshAgentDir(), args: ["--model", "auto-router/main", "-p", "Say hi"] });
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /400\b.*Invalid request: messages must not be empty/);
    assert.equal(emulatorA.calls.length, 1);
    assert.equal(emulatorB.calls.length, 0);
  });

  it("lists the command and the routes over RPC, and answers /auto-router list with a notify naming the targets", async () => {
    const rpc = await startRpc({ agentDir: freshAgentDir(), args: ["--model", "auto-router/main"] });
    try {
      const commands = await rpc.request({ type: "get_commands" });
      assert.equal(commands.success, true);
      assert.ok(
        commands.data.commands.some((command: any) => command.name === "auto-router"),
        JSON.stringify(commands.data.commands),
      );

      const models = await rpc.request({ type: "get_available_models" });
      const routerIds = models.data.models
        .filter((model: any) => model.provider === "auto-router")
        .map((model: any) => model.id)
        .sort();
      assert.deepEqual(routerIds, ["main", "reverse"]);

      const accepted = await rpc.request({ type: "prompt", message: "/auto-router list" });
      assert.equal(accepted.success, true, JSON.stringify(accepted));
      const notify = await rpc.waitFor((line) => line.type === "extension_ui_request" && line.method === "notify");
      assert.match(notify.message, /auto-router\/main/);
      assert.match(notify.message, /mock-a\/model-a/);
      assert.match(notify.message, /mock-b\/model-b/);
      // A command never reaches a model.
      assert.equal(emulatorA.calls.length + emulatorB.calls.length, 0);
    } finally {
      const { code } = await rpc.close();
      assert.equal(code, 0, rpc.stderr);
    }
  });

  it("exits 1 when an /auto-router command fails in print mode, so a script sees it, and 0 when it works", async () => {
    const agentDir = freshAgentDir();
    const unknown = await runPi({ agentDir, args: ["--model", "auto-router/main", "-p", "/auto-router frobnicate"] });
    assert.equal(unknown.code, 1, unknown.stdout + unknown.stderr);
    assert.match(unknown.stdout + unknown.stderr, /unknown subcommand "frobnicate"/);
    const noRoute = await runPi({
      agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router explain nosuch"],
    });
    assert.equal(noRoute.code, 1, noRoute.stdout + noRoute.stderr);
    assert.match(noRoute.stdout + noRoute.stderr, /"nosuch" is not a route/);
    const list = await runPi({ agentDir, args: ["--model", "auto-router/main", "-p", "/auto-router list"] });
    assert.equal(list.code, 0, list.stdout + list.stderr);
    assert.match(list.stdout + list.stderr, /mock-b/);
    assert.equal(emulatorA.calls.length + emulatorB.calls.length, 0, "a command calls no model");
  });

  it("refuses words past what a subcommand takes with its usage and exit 1, instead of ignoring them", async () => {
    const refused = [
      ["status x", "x", "status"],
      // help takes one subcommand name (help <subcommand>): a word past it is refused.
      ["help status x", "x", "help [subcommand]"],
      ["show main extra", "extra", "show <route>"],
      ["uvi enable now", "now", "uvi [show|enable|disable|refresh]"],
      ["state push x", "x", "state [push]"],
      // The whole grammar, as balance's other mistakes give it (help lists the short form).
      ["balance show x", "x", "balance [show|fetch] | balance floor <provider> <amount [currency]|off|clear>"],
    ];
    // One pi process for them all (print mode goes on after a failing command and exits 1 at the end): each refusal
    // is its own line on stderr, and pi starts cost seconds each.
    const run = await runPi({
      agentDir: freshAgentDir(),
      args: ["--model", "auto-router/main", "-p", ...refused.map(([command]) => `/auto-router ${command}`)],
    });
    assert.equal(run.code, 1, `${run.stdout}${run.stderr}`);
    for (const [command, extra, usage] of refused) {
      const name = command!.split(" ")[0];
      assert.ok(
        run.stderr.includes(`${name}: unexpected "${extra}"\nusage: /auto-router ${usage}\n`),
        `${command}: ${run.stderr}`,
      );
    }
    assert.doesNotMatch(run.stdout + run.stderr, /quota pacing enabled|state push:/, "no refused command ran");
  });

  it("says what is wrong with a rating that is neither good nor bad, then the usage, and exits 1", async () => {
    const run = await runPi({
      agentDir: freshAgentDir(),
      args: ["--model", "auto-router/main", "-p", "/auto-router rate meh"],
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.ok(
      run.stderr.includes(
        '"meh" is not a rating: expected good or bad (or up/down, +1/-1)\nusage: /auto-router rate <good|bad> [reason]',
      ),
      run.stderr,
    );
  });

  it("names the subcommand a mistyped one was probably meant to be, and help lists itself", async () => {
    const agentDir = freshAgentDir();
    const typo = await runPi({ agentDir, args: ["--model", "auto-router/main", "-p", "/auto-router statuss"] });
    assert.equal(typo.code, 1, typo.stdout + typo.stderr);
    assert.match(typo.stderr, /unknown subcommand "statuss"; did you mean "status"\?\n\/auto-router subcommands:/);
    const help = await runPi({ agentDir, args: ["--model", "auto-router/main", "-p", "/auto-router help"] });
    assert.equal(help.code, 0, help.stdout + help.stderr);
    assert.match(help.stderr, /^ {2}status\s+Config file/m);
    assert.match(help.stderr, /^ {2}help \[subcommand\]\s+This list of the subcommands, or one subcommand's usage$/m);
    // A subcommand's usage, asked for as a CLI user would: never a route named "--help" nor an exit code 1.
    const usage = await runPi({
      agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router switch --help", "/auto-router help show"],
    });
    assert.equal(usage.code, 0, usage.stdout + usage.stderr);
    assert.match(usage.stderr, /^usage: \/auto-router switch <route\|alias\|provider\/model>\nSwitch pi /m);
    assert.match(usage.stderr, /^usage: \/auto-router show <route>\nOne route in detail$/m);
    assert.doesNotMatch(usage.stderr, /neither a route/);
  });

  it("names the word a mistyped scope, action or flag was probably meant to be, then the usage, and exits 1", async () => {
    const typos = {
      "reset cooldown": 'reset: unknown scope "cooldown"; did you mean "cooldowns"?\nusage: /auto-router reset [',
      "reset everything": 'reset: unknown scope "everything"\nusage: /auto-router reset [cooldowns|breakers|',
      "shadow shwo": 'shadow: unknown action "shwo"; did you mean "show"?\nusage: /auto-router shadow [',
      "uvi enabel": 'uvi: unknown action "enabel"; did you mean "enable"?\nusage: /auto-router uvi [',
      "health --jsn":
        'health: unknown flag "--jsn"; did you mean "--json"?\nusage: /auto-router health [--probe] [--json]',
      "state psuh": 'state: unknown action "psuh"; did you mean "push"?\nusage: /auto-router state [push]',
      "circuit rest": 'circuit: unknown action "rest"; did you mean "reset"?\nusage: /auto-router circuit [reset',
      "budget st": 'budget: unknown action "st"; did you mean "set"?\nusage: /auto-router budget [show] |',
      "balance fecth":
        'balance: unknown action "fecth"; did you mean "fetch"?\nusage: /auto-router balance [show|fetch]',
      // A value that is no count is named with its subcommand and the usage, as a mistyped word is.
      "shadow show 0":
        'shadow show: "0" is not a count: expected a whole number above 0 (at most 200 are kept)\nusage: /auto-router shadow [',
    };
    const run = await runPi({
      agentDir: freshAgentDir(),
      args: ["--model", "auto-router/main", "-p", ...Object.keys(typos).map((typo) => `/auto-router ${typo}`)],
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    for (const [typo, said] of Object.entries(typos)) assert.ok(run.stderr.includes(said), `${typo}: ${run.stderr}`);
    assert.equal(emulatorA.calls.length + emulatorB.calls.length, 0, "a command calls no model");
  });

  it("puts every config problem status shows into the debug report, line and column and unknown providers included", async () => {
    const typo = { sortby: "cost", targets: ROUTES.routes.main.targets };
    const { agentDir, cleanup } = makeAgentDir({
      providers: providers(),
      routes: { routes: { ...ROUTES.routes, typo }, aliases: { x: "antropic/claude" } },
    });
    cleanups.push(cleanup);
    const run = await runPi({
      agentDir,
      args: ["--model", "auto-router/main", "-p", "/auto-router status", "/auto-router debug"],
    });
    assert.equal(run.code, 0, run.stderr);
    const output = run.stdout + run.stderr;
    const status = output.slice(output.indexOf("\nconfig: "), output.indexOf("\nstate: ")).split("\n").slice(2);
    assert.deepEqual(
      status.map((line) => line.replace(/line \d+, column \d+/, "line L, column C")),
      [
        '  warning: line L, column C at routes.typo.sortby: unknown key (ignored); did you mean "sortBy"?',
        "  warning: line L, column C at aliases.x: provider 'antropic' is not known to pi; did you mean 'anthropic'?",
      ],
    );
    const report = readFileSync(join(agentDir, "extensions", "auto-router.debug-report.txt"), "utf8");
    for (const line of status) assert.ok(report.includes(`\n${line}\n`), `${line} in the report:\n${report}`);
    assert.doesNotMatch(report, /no issues/);
  });

  it("keeps the bundle's compiled code in the agent dir: written by the first start, used by the next, rewritten when refused", async () => {
    const agentDir = freshAgentDir();
    const cacheFile = join(agentDir, "extensions", "auto-router.code-cache.bin");
    const codeCache = async () => {
      const run = await runPi({ agentDir, args: ["--model", "auto-router/main", "-p", "/auto-router debug"] });
      assert.equal(run.code, 0, run.stderr);
      return /^loaded from .* \(bundle, V8 code cache: (.*)\)$/m.exec(run.stdout + run.stderr)?.[1];
    };
    assert.equal(await codeCache(), "none yet, written");
    const written = readFileSync(cacheFile);
    const header = written.subarray(0, written.indexOf(10) + 1);
    assert.match(header.toString("latin1"), /^pi-auto-router code cache 1 [0-9a-f]{64}\n$/);
    assert.ok(written.length > 100_000, `${written.length} bytes`);
    assert.equal(await codeCache(), "used");
    // Damaged after its header (a disk error, a partial copy): V8 refuses it, the bundle compiles from its text, and the
    // cache is written anew.
    writeFileSync(cacheFile, Buffer.concat([header, Buffer.alloc(written.length - header.length, 7)]));
    assert.equal(await codeCache(), "refused by V8, written");
    const rewritten = readFileSync(cacheFile);
    assert.ok(rewritten.subarray(0, header.length).equals(header));
    assert.ok(
      rewritten.subarray(header.length).some((byte) => byte !== 7),
      "the damaged cache was replaced",
    );
  });

  it("keeps a second copy of the package off and says so, so /auto-router stays one command", async () => {
    // An upgrade installed beside the old copy: pi loads both. pi 0.87 and later give each extension its own
    // pi.events object, so the copies find each other through pi's shared event bus.
    const copy = freshDir("auto-router-second-copy");
    copyFileSync(EXTENSION_ENTRY, join(copy, "pi-extension.ts"));
    symlinkSync(join(REPO_ROOT, "dist"), join(copy, "dist"));
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    writeFileSync(join(copy, "package.json"), JSON.stringify({ ...manifest, version: "9.9.9", scripts: {} }));
    const run = await runPi({
      agentDir: freshAgentDir(),
      args: ["-e", join(copy, "pi-extension.ts"), "--model", "auto-router/main", "-p", "/auto-router status"],
    });
    assert.equal(run.code, 0, run.stderr);
    // The command ran: pi would otherwise have renamed it (/auto-router:1, :2) and sent the text to the model.
    assert.equal(emulatorA.calls.length + emulatorB.calls.length, 0, run.stdout);
    assert.match(run.stdout + run.stderr, /^routes: main, reverse$/m);
    assert.match(
      run.stderr,
      new RegExp(
        `pi-auto-router is loaded twice: ${REPO_ROOT} \\(${manifest.version}\\) routes, ${copy} \\(9\\.9\\.9\\) stays off`,
      ),
    );
  });

  it("prints every route id for --list-models auto-router", async () => {
    const run = await runPi({ agentDir: freshAgentDir(), args: ["--list-models", "auto-router"] });
    assert.equal(run.code, 0, run.stderr);
    // 0.73.1 prints the table on stderr, newer pi on stdout.
    const rows = (run.stdout + run.stderr).split("\n").map((line) => line.trim().split(/\s+/));
    const routeIds = rows
      .filter(([provider]) => provider === "auto-router")
      .map(([, id]) => id)
      .sort();
    assert.deepEqual(routeIds, ["main", "reverse"]);
    // Before a session, the routes' limits and capabilities come from models.json's models (here 128K context, 4K
    // output, no reasoning, text only), not from the catalogue's fallbacks.
    for (const row of rows.filter(([provider]) => provider === "auto-router"))
      assert.deepEqual(row.slice(2), ["128K", "4.1K", "no", "no"], row.join(" "));
  });
});
