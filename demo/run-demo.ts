// `npm run demo`: the router's main job on local emulated providers, through the real pi CLI, with no API key and
// no network. Prompt 1 fails over twice (rate limit, overloaded) and is served by the healthy provider; a second pi
// process then goes straight to the healthy one because the cooldowns were persisted. Exits non-zero, with the
// step that misbehaved, when anything differs from that story.
//   --cleanup   delete the temporary agent dir (and its event log) at the end
import { readFileSync } from "node:fs";
import { plural } from "../src/analytics/text-format.ts";
import { DEMO_ROUTE_ID, RATE_LIMIT_RETRY_AFTER_SECONDS, startDemoWorld, type DemoWorld } from "./demo-setup.ts";
import {
  assistantAnswers,
  countByType,
  describeStory,
  readEventLog,
  requestStories,
  type ServedAnswer,
} from "./demo-report.ts";
import { runPi, type PiRun } from "../test/helpers/pi-cli.ts";

const PROMPT_TIMEOUT_MS = 20_000;
const FIRST_PROMPT = "How do I reverse a string in JavaScript?";
const LATER_PROMPTS = ["What does the Retry-After header mean?", "Write a haiku about failover."];

class DemoStepFailed extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new DemoStepFailed(message);
}

/** pi's CLI as installed by `npm install` (dev dependency), relative to the package directory the demo runs in. */
const DEMO_PI_BIN = "./node_modules/.bin/pi";

let stepNumber = 0;
function headline(text: string): void {
  stepNumber += 1;
  console.log(`\n== ${stepNumber}. ${text}`);
}

const indent = (text: string, prefix = "    ") =>
  text
    .trimEnd()
    .split("\n")
    .map((line) => `${prefix}${line}`)
    .join("\n");

/**
 * The command as it can be pasted into a shell in the package directory: `pi` is not on the PATH after
 * `npm install`, but the dev dependency puts it in node_modules/.bin, and the agent dir is kept unless --cleanup.
 */
function shownCommand(agentDir: string, args: string[]): string {
  const quote = (arg: string) => (/^[\w./=@:-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  const piArgs = [
    "--offline",
    "--no-session",
    "-ne",
    "-e",
    "./pi-extension.ts",
    "--model",
    `auto-router/${DEMO_ROUTE_ID}`,
    ...args,
  ];
  return `PI_CODING_AGENT_DIR=${quote(agentDir)} ${DEMO_PI_BIN} ${piArgs.map(quote).join(" ")}`;
}

function runRoutedPi(world: DemoWorld, args: string[]): Promise<PiRun> {
  console.log(`  $ ${shownCommand(world.agentDir, args)}`);
  return runPi({
    agentDir: world.agentDir,
    args: ["--model", `auto-router/${DEMO_ROUTE_ID}`, ...args],
    timeoutMs: PROMPT_TIMEOUT_MS,
  });
}

function describePiFailure(run: PiRun): string {
  return `pi exited with ${run.code}${run.stderr.trim() ? `; stderr:\n${indent(run.stderr)}` : ""}`;
}

function printAnswer(prompt: string, answer: ServedAnswer): void {
  console.log(`  > ${prompt}`);
  console.log(`  < ${answer.text || `(no text; ${answer.stopReason}: ${answer.errorMessage ?? ""})`}`);
  console.log(`    served by ${answer.provider}/${answer.model} (from the assistant message_end of --mode json)`);
}

const callCounts = (world: DemoWorld) => world.targets.map((target) => target.emulator.calls.length);

async function runSteps(world: DemoWorld): Promise<void> {
  const [rateLimited, overloaded, healthy] = world.targets;
  const healthyKey = `${healthy.provider}/${healthy.modelId}`;

  headline("Three emulated providers on 127.0.0.1 (no API key, no network)");
  for (const target of world.targets) {
    console.log(
      `  ${target.provider.padEnd(14)} ${target.modelId.padEnd(18)} ${target.emulator.url.padEnd(28)} ${target.behaviour}`,
    );
  }

  headline("A temporary pi agent dir with models.json and a demo route");
  console.log(`  agent dir:   ${world.agentDir}`);
  console.log(`  routes file: ${world.routesFile}`);
  const routes = JSON.parse(readFileSync(world.routesFile, "utf8"));
  const route = routes.routes[DEMO_ROUTE_ID];
  console.log(
    `  route auto-router/${DEMO_ROUTE_ID} (sortBy ${route.sortBy}): ${route.targets.map((t: any) => `${t.provider}/${t.modelId}`).join(" -> ")}`,
  );

  headline(`Prompt 1 in a first pi process: fails over twice, served by ${healthy.provider}`);
  let logOffset = readEventLog(world.eventLogPath).length;
  const first = await runRoutedPi(world, ["--mode", "json", FIRST_PROMPT]);
  expect(first.code === 0, `prompt 1: ${describePiFailure(first)}`);
  const [firstAnswer] = assistantAnswers(first.stdout);
  expect(firstAnswer, "prompt 1: pi printed no assistant message_end");
  printAnswer(FIRST_PROMPT, firstAnswer);
  expect(
    firstAnswer.provider === healthy.provider,
    `prompt 1: expected ${healthy.provider} to serve, got ${firstAnswer.provider}`,
  );
  const firstStories = requestStories(readEventLog(world.eventLogPath).slice(logOffset));
  expect(
    firstStories.length === 1,
    `prompt 1: expected one routed request in the event log, found ${firstStories.length}`,
  );
  const firstStory = firstStories[0]!;
  console.log("  what the router did (event log):");
  for (const line of describeStory(firstStory)) console.log(line);
  const kinds = firstStory.attempts.map((attempt) => attempt.failureKind ?? attempt.outcome);
  expect(
    kinds.join(",") === "rate_limit,overloaded,success" &&
      firstStory.final?.failovers === 2 &&
      firstStory.final.servedTarget === healthyKey,
    `prompt 1: expected rate_limit, overloaded, then success with 2 failovers; got ${kinds.join(", ")} (${firstStory.final?.failovers} failovers)`,
  );
  const rateLimitCooldownMs = firstStory.attempts[0]?.cooldownMs;
  expect(
    rateLimitCooldownMs === RATE_LIMIT_RETRY_AFTER_SECONDS * 1000,
    `prompt 1: expected a ${RATE_LIMIT_RETRY_AFTER_SECONDS} s cooldown from the rate-limit message, got ${rateLimitCooldownMs} ms`,
  );
  console.log(
    `  note: ${rateLimited.provider} sent "Retry-After: ${RATE_LIMIT_RETRY_AFTER_SECONDS}" but pi-ai drops response headers on errors,`,
  );
  console.log(
    `        so the router read the ${RATE_LIMIT_RETRY_AFTER_SECONDS} s cooldown from the error text ("Please try again in ${RATE_LIMIT_RETRY_AFTER_SECONDS}s").`,
  );
  expect(
    callCounts(world).join(",") === "1,1,1",
    `prompt 1: expected one call to each provider, got ${callCounts(world).join(", ")}`,
  );

  headline(
    `Prompts 2 and 3 in a second pi process: straight to ${healthy.provider} (cooldowns persisted across processes)`,
  );
  logOffset = readEventLog(world.eventLogPath).length;
  const second = await runRoutedPi(world, ["--mode", "json", ...LATER_PROMPTS]);
  expect(second.code === 0, `prompts 2-3: ${describePiFailure(second)}`);
  const laterAnswers = assistantAnswers(second.stdout);
  expect(
    laterAnswers.length === LATER_PROMPTS.length,
    `prompts 2-3: expected ${LATER_PROMPTS.length} answers, got ${laterAnswers.length}`,
  );
  const laterStories = requestStories(readEventLog(world.eventLogPath).slice(logOffset));
  LATER_PROMPTS.forEach((prompt, index) => {
    const answer = laterAnswers[index]!;
    printAnswer(prompt, answer);
    expect(
      answer.provider === healthy.provider,
      `prompt ${index + 2}: expected ${healthy.provider} to serve, got ${answer.provider}`,
    );
    const story = laterStories[index];
    if (story) for (const line of describeStory(story)) console.log(line);
    expect(story?.final?.failovers === 0, `prompt ${index + 2}: expected no failover, got ${story?.final?.failovers}`);
    const skippedReasons = new Set(story.skipped.map((skipped) => `${skipped.key}:${skipped.reason}`));
    for (const cooling of [rateLimited, overloaded]) {
      expect(
        skippedReasons.has(`${cooling.provider}/${cooling.modelId}:cooldown`),
        `prompt ${index + 2}: ${cooling.provider} was not skipped for its cooldown`,
      );
    }
  });
  expect(
    callCounts(world).join(",") === "1,1,3",
    `prompts 2-3: the cooling providers were called again (calls ${callCounts(world).join(", ")})`,
  );

  headline('"/auto-router list" in a third pi process (print mode writes it to stderr)');
  const list = await runRoutedPi(world, ["-p", "/auto-router list"]);
  expect(list.code === 0, `/auto-router list: ${describePiFailure(list)}`);
  console.log(indent(list.stderr, "  "));
  expect(
    list.stderr.includes(DEMO_ROUTE_ID) && list.stderr.includes("cooldown"),
    "/auto-router list: the output does not show the route with its cooldowns",
  );

  headline("Calls each emulated provider received");
  for (const target of world.targets)
    console.log(
      `  ${target.provider.padEnd(14)} ${plural(target.emulator.calls.length, "call")}  (${target.behaviour})`,
    );

  headline("The event log");
  const events = readEventLog(world.eventLogPath);
  console.log(`  path: ${world.eventLogPath}`);
  console.log(
    `  ${events.length} events: ${Object.entries(countByType(events))
      .map(([type, count]) => `${type} ${count}`)
      .join(", ")}`,
  );
  const finals = events.filter((event) => event.type === "final");
  finals.forEach((event, index) => {
    console.log(
      `  final #${index + 1}: servedTarget ${event.data.servedTarget}, failovers ${event.data.failovers}, outcome ${event.data.outcome}`,
    );
  });
  expect(
    finals.length === 1 + LATER_PROMPTS.length,
    `event log: expected ${1 + LATER_PROMPTS.length} final events, found ${finals.length}`,
  );
}

const USAGE = `usage: npm run demo [-- --cleanup]
  --cleanup   delete the temporary agent dir (and its event log) at the end of a successful run`;

async function main(): Promise<number> {
  const flags = process.argv.slice(2);
  if (flags.includes("--help") || flags.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const unknown = flags.filter((flag) => flag !== "--cleanup");
  if (unknown.length > 0) {
    console.error(`npm run demo: unknown option ${unknown.map((flag) => `"${flag}"`).join(", ")}\n${USAGE}`);
    return 2;
  }
  const cleanup = flags.includes("--cleanup");
  const started = Date.now();
  console.log("pi-auto-router demo: same-request failover through the real pi CLI");
  const world = await startDemoWorld();
  let succeeded = false;
  try {
    await runSteps(world);
    console.log(`\nDEMO OK in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (!cleanup) console.log(`(agent dir kept for inspection; remove it with: rm -rf ${world.agentDir})`);
    succeeded = true;
    return 0;
  } catch (error) {
    const message =
      error instanceof DemoStepFailed
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    console.error(`\nDEMO FAILED at step ${stepNumber}: ${message}`);
    console.error(`(agent dir kept for inspection: ${world.agentDir})`);
    return 1;
  } finally {
    // A failed run keeps its agent dir even with --cleanup: the event log is the evidence.
    if (cleanup && succeeded) await world.close();
    else await Promise.all(world.targets.map((target) => target.emulator.close()));
  }
}

process.exitCode = await main();
