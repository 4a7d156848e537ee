// Secrets suite: realistic keys, built at run time from the seed (never committed), go through everything that can
// carry them: provider error texts and response headers of failing targets, the targets' own API keys (models.json),
// and odd command arguments (`budget set`, `rate bad <reason>`), via `pi -p`, `pi --mode json` and `pi --mode rpc`,
// then the stats scripts over the log. Afterwards no key (nor a 16-character piece of one) may appear in any file of
// the agent dir except auth.json and models.json, in pi's stdout/stderr, in the RPC stream or in the scripts' output;
// the router's files are 0600 and its directory 0700; auth.json is byte-for-byte unchanged and still 0600.
//   node --import tsx reliability/secrets.ts [--quick] [--seed N] [--keep]
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { makeAgentDir, REPO_ROOT } from "../test/helpers/agent-dir.ts";
import { runPi } from "../test/helpers/pi-cli.ts";
import { startRpc } from "../test/helpers/rpc-client.ts";
import type { EmulatorReply } from "../test/helpers/sse-emulator-core.ts";
import { routeOf, startCliTargets } from "./cli-fixture.ts";
import { createRandom, type SeededRandom } from "./seeded-random.ts";
import { parseSuiteOptions } from "./suite-options.ts";
import { runSuiteMain, SuiteReport, type Row } from "./suite-report.ts";

/** A leak of this many consecutive characters of a key counts, not just the whole key. */
const LEAK_PIECE_LENGTH = 16;
const RPC_TIMEOUT_MS = 30_000;
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const STATS_SCRIPTS = ["routing-stats.mjs", "routing-session-stats.mjs", "routing-quality-stats.mjs"];

function characters(random: SeededRandom, length: number): string {
  return Array.from({ length }, () => ALPHANUMERIC[random.integer(0, ALPHANUMERIC.length - 1)]).join("");
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function makeSecrets(random: SeededRandom) {
  return {
    openaiKey: `sk-proj-${characters(random, 48)}`,
    anthropicKey: `sk-ant-api03-${characters(random, 80)}`,
    targetKeyC: `sk-${characters(random, 40)}7`,
    googleKey: `AIza${characters(random, 35)}`,
    bearer: characters(random, 40),
    jwt: `${base64url({ alg: "HS256", typ: "JWT" })}.${base64url({ sub: characters(random, 12), exp: 4102444800 })}.${characters(random, 43)}`,
    urlKey: `AIza${characters(random, 35)}`,
    authKey: `sk-ant-oat01-${characters(random, 60)}`,
  };
}
type Secrets = ReturnType<typeof makeSecrets>;

/** Failing replies whose texts and headers carry keys, the way real providers echo them back. */
function leakyReplies(secrets: Secrets): { a: EmulatorReply[]; b: EmulatorReply[] } {
  const url = `https://generativelanguage.example.com/v1beta/models?key=${secrets.urlKey}`;
  return {
    a: [
      {
        status: 401,
        errorMessage: `Incorrect API key provided: ${secrets.openaiKey}. You can find your API key at ${url}`,
        headers: { "x-debug-token": secrets.jwt, "www-authenticate": `Bearer ${secrets.bearer}` },
      },
      {
        status: 503,
        errorMessage: `upstream rejected Authorization: Bearer ${secrets.bearer} (session ${secrets.jwt})`,
        headers: { "set-cookie": `session=${secrets.jwt}` },
      },
      { status: 500, errorMessage: `proxy error for ${url} with api_key=${secrets.googleKey}` },
    ],
    b: [
      {
        status: 429,
        retryAfterSeconds: 1,
        errorType: "rate_limit_error",
        errorMessage: `Rate limited for key ${secrets.anthropicKey}`,
      },
      {
        status: 403,
        errorType: "permission_error",
        errorMessage: `token ${secrets.jwt} may not use this model; x-api-key: ${secrets.anthropicKey}`,
      },
      { status: 529, errorType: "overloaded_error", errorMessage: `Overloaded (${url})` },
    ],
  };
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesBelow(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

async function main(): Promise<number> {
  const options = parseSuiteOptions();
  const report = new SuiteReport("secrets", options.seed);
  const secrets = makeSecrets(createRandom(options.seed));
  const fixture = await startCliTargets("sec");
  const routes = {
    routes: Object.fromEntries(
      ["leak-1", "leak-2", "leak-3", "leak-4"].map((id) => [id, routeOf(["a", "b", "c"], fixture.targets)]),
    ),
  };
  const dir = makeAgentDir({
    providers: fixture.providers({ a: secrets.openaiKey, b: secrets.anthropicKey, c: secrets.targetKeyC }),
    routes,
  });
  const stateDir = join(dir.agentDir, "router-state");
  const env = { AUTO_ROUTER_LOG_DIR: stateDir };
  const authFile = join(dir.agentDir, "auth.json");
  writeFileSync(authFile, JSON.stringify({ "sec-c": { type: "api_key", key: secrets.authKey } }, null, 2), {
    mode: 0o600,
  });
  const authBefore = readFileSync(authFile);
  const outputs: Array<{ source: string; text: string }> = [];
  const replies = leakyReplies(secrets);
  try {
    // `exit`: 1 for the commands pi refuses (an /auto-router command that fails in print mode exits 1), 0 otherwise.
    const printRuns: Array<{ route: string; args: string[]; exit: number }> = [
      { route: "leak-1", args: ["-p", "first question"], exit: 0 },
      {
        route: "leak-2",
        args: [
          "--mode",
          "json",
          "-p",
          "second question",
          `/auto-router rate bad it leaked ${secrets.googleKey} and Bearer ${secrets.bearer}`,
        ],
        exit: 0,
      },
      { route: "leak-1", args: ["-p", `/auto-router budget set ${secrets.openaiKey} 5`], exit: 1 },
      { route: "leak-1", args: ["-p", `/auto-router budget set sec-a ${secrets.anthropicKey}`], exit: 1 },
      { route: "leak-1", args: ["-p", `/auto-router budget set sec-a 5 ${secrets.jwt}`], exit: 1 },
      { route: "leak-1", args: ["-p", `/auto-router explain ${secrets.urlKey}`], exit: 1 },
    ];
    const runs = options.quick ? printRuns.slice(0, 4) : printRuns;
    for (const [index, run] of runs.entries()) {
      if (index < 2) {
        fixture.targets.a.emulator.enqueue(replies.a[index]!);
        fixture.targets.b.emulator.enqueue(replies.b[index]!);
      }
      const result = await runPi({
        agentDir: dir.agentDir,
        env,
        args: ["--model", `auto-router/${run.route}`, ...run.args],
      });
      outputs.push(
        { source: `pi ${run.args.join(" ").slice(0, 40)}… stdout`, text: result.stdout },
        { source: `pi … stderr (run ${index + 1})`, text: result.stderr },
      );
      report.check(
        `pi run ${index + 1} exits ${run.exit}`,
        result.code === run.exit,
        result.code === run.exit ? "" : `exit ${result.code}`,
      );
    }

    fixture.targets.a.emulator.enqueue(replies.a[2]!);
    fixture.targets.b.emulator.enqueue(replies.b[2]!);
    const rpc = await startRpc({ agentDir: dir.agentDir, env, args: ["--model", "auto-router/leak-3"] });
    try {
      await rpc.request({ type: "prompt", message: "third question" });
      await rpc.waitFor((line) => line.type === "agent_end", RPC_TIMEOUT_MS);
      for (const command of [
        `/auto-router rate bad key ${secrets.openaiKey} in reply`,
        `/auto-router budget set ${secrets.googleKey} 5`,
        "/auto-router list",
      ]) {
        const from = rpc.lines.length;
        rpc.send({ type: "prompt", message: command });
        await rpc.waitFor((line) => line.type === "extension_ui_request" && line.method === "notify", RPC_TIMEOUT_MS, {
          sinceIndex: from,
        });
      }
    } finally {
      const closed = await rpc.close();
      outputs.push(
        { source: "rpc stream", text: rpc.lines.map((line) => JSON.stringify(line)).join("\n") },
        { source: "rpc stderr", text: rpc.stderr },
      );
      report.check("pi --mode rpc ends cleanly", closed.code === 0 || closed.code === null, `exit ${closed.code}`);
    }

    for (const script of STATS_SCRIPTS) {
      for (const flags of [["-v"], ["--json"]]) {
        if (script !== "routing-session-stats.mjs" && flags[0] === "-v") continue;
        const run = spawnSync(process.execPath, [join(REPO_ROOT, "scripts", script), "--file", stateDir, ...flags], {
          encoding: "utf8",
          cwd: REPO_ROOT,
        });
        outputs.push({ source: `${script} ${flags.join(" ")}`, text: `${run.stdout}\n${run.stderr}` });
        report.check(
          `${script} ${flags.join(" ")} exits 0`,
          run.status === 0,
          run.status === 0 ? "" : run.stderr.slice(0, 200),
        );
      }
    }

    const keyCalls = fixture.targets.a.emulator.calls.filter(
      (call) => call.headers.authorization === `Bearer ${secrets.openaiKey}`,
    ).length;
    report.check(
      "the targets' keys reached the providers (the leaks had something to leak)",
      keyCalls > 0,
      `${keyCalls} calls to A carried its key`,
    );

    for (const file of filesBelow(dir.agentDir)) {
      const name = relative(dir.agentDir, file);
      if (name === "auth.json" || name === "models.json") continue;
      outputs.push({ source: name, text: readFileSync(file, "latin1") });
    }
    const leaks: Row[] = [];
    for (const [secretName, secret] of Object.entries(secrets)) {
      const pieces = Array.from({ length: secret.length - LEAK_PIECE_LENGTH + 1 }, (_, start) =>
        secret.slice(start, start + LEAK_PIECE_LENGTH),
      );
      for (const output of outputs) {
        if (pieces.some((piece) => output.text.includes(piece)))
          leaks.push({ secret: secretName, where: output.source });
      }
    }
    report.table("Places scanned", [
      {
        "agent-dir files": outputs.filter(
          (output) =>
            !output.source.startsWith("pi ") &&
            !output.source.startsWith("rpc") &&
            !output.source.startsWith("routing-"),
        ).length,
        "pi outputs": outputs.filter((output) => output.source.startsWith("pi ")).length,
        "rpc lines": outputs.find((output) => output.source === "rpc stream")?.text.split("\n").length ?? 0,
        "script outputs": outputs.filter((output) => output.source.startsWith("routing-")).length,
        secrets: Object.keys(secrets).length,
        "event log bytes": statSize(join(stateDir, "auto-router.events.jsonl")),
      },
    ]);
    report.table("Leaks (secret found in)", leaks);
    report.check(
      "no secret (or a 16-character piece of one) anywhere outside auth.json and models.json",
      leaks.length === 0,
      `${leaks.length} leaks`,
    );

    const loose: string[] = [];
    if ((statSync(stateDir).mode & 0o777) !== 0o700)
      loose.push(`router-state ${(statSync(stateDir).mode & 0o777).toString(8)}`);
    for (const file of filesBelow(stateDir)) {
      const mode = statSync(file).mode & 0o777;
      if (mode !== 0o600) loose.push(`${relative(dir.agentDir, file)} ${mode.toString(8)}`);
    }
    report.table(
      "Router files",
      filesBelow(stateDir).map((file) => ({
        file: relative(dir.agentDir, file),
        mode: (statSync(file).mode & 0o777).toString(8),
      })),
    );
    report.check("router files 0600 and its directory 0700", loose.length === 0, loose.join(", "));
    report.check(
      "auth.json unchanged byte-for-byte and 0600",
      readFileSync(authFile).equals(authBefore) && (statSync(authFile).mode & 0o777) === 0o600,
    );
  } finally {
    await fixture.close();
    if (options.keep) report.note(`kept ${dir.agentDir}`);
    else dir.cleanup();
  }
  return report.finish();
}

function statSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

runSuiteMain(main);
