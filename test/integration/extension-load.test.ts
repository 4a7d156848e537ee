// run-tests: own process (it counts the files of this package in the module cache of its process)
// What loading the extension into a plain pi session brings into the process, counted in Node's module cache: the
// prebuilt bundle and nothing else of this package. Team mode's Redis client (dist/redis-client.cjs), the gateway
// with fastify (dist/gateway*.mjs) and the analytics (dist/routing-cli*.mjs) stay on disk until they are used. And
// what it keeps on the heap, seen through zod's construction hook: no schema a plain session never reads is built,
// and the config schema is let go once the file is parsed.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { REPO_ROOT } from "../helpers/agent-dir.ts";
import { createSdkHarness, type SdkHarness } from "../helpers/sdk-harness.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const moduleCache = createRequire(import.meta.url).cache;
const TARGETS = [{ provider: "load-target", models: [{ id: "model" }] }];
const ROUTES = { routes: { main: { targets: [{ provider: "load-target", modelId: "model" }] } } };

/**
 * The package's files this process has loaded: by require (the Redis client's bundle among them), and the extension's
 * bundle, which pi-extension.ts compiles itself (with V8's code cache) and lists under a global symbol.
 */
function packageFilesLoaded(): Set<string> {
  const files = new Set<string>();
  const bundles = (globalThis as Record<symbol, Map<string, unknown> | undefined>)[
    Symbol.for("pi-auto-router.bundles")
  ];
  const compiled = [...(bundles ?? new Map())].filter(([, loaded]) => loaded).map(([path]) => path);
  for (const path of [...Object.keys(moduleCache), ...compiled]) {
    const inside = relative(REPO_ROOT, path);
    if (inside.startsWith("..") || inside.startsWith(`test${sep}`) || inside.startsWith(`node_modules${sep}`)) continue;
    files.add(inside);
  }
  return files;
}

type ZodGlobals = { __zod_globalConfig?: { postProcessor?: (schema: unknown) => void } };
type ZodDef = { type?: string; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown };
/** An object schema: each field's kind ("string", "record of array", ...), and the schema itself, held weakly. */
type BuiltSchema = { fields: Record<string, string>; schema: WeakRef<object> };

const defOf = (schema: unknown) => (schema as { _zod?: { def?: ZodDef } } | undefined)?._zod?.def;
function kindOf(schema: unknown): string {
  const def = defOf(schema);
  if (def?.type === "record") return `record of ${kindOf(def.valueType)}`;
  if (def?.type === "array") return `array of ${kindOf(def.element)}`;
  return def?.type ?? "?";
}

/**
 * Every object schema that any copy of zod in this process builds until `stop()` (the bundle has its own copy; zod
 * calls `globalThis.__zod_globalConfig.postProcessor` with each new schema).
 */
function recordObjectSchemas(): { built: BuiltSchema[]; stop(): void } {
  const globals = globalThis as ZodGlobals;
  globals.__zod_globalConfig ??= {};
  const config = globals.__zod_globalConfig;
  const previous = config.postProcessor;
  const built: BuiltSchema[] = [];
  config.postProcessor = (schema) => {
    previous?.(schema);
    const def = defOf(schema);
    if (def?.type !== "object" || !def.shape) return;
    const fields = Object.fromEntries(Object.entries(def.shape).map(([key, field]) => [key, kindOf(field)]));
    built.push({ fields, schema: new WeakRef(schema as object) });
  };
  return { built, stop: () => void (config.postProcessor = previous) };
}

const hasFields = (fields: Record<string, string | true>) => (schema: BuiltSchema) =>
  Object.entries(fields).every(([key, kind]) => (kind === true ? key in schema.fields : schema.fields[key] === kind));
/** Shapes only the root of the routes file and each rarely read file have. */
const CONFIG_ROOT = hasFields({ routes: true, defaultRoute: true, aliases: true });
const RARELY_READ = {
  "the earlier implementation's ratings": hasFields({ provider: true, modelId: true, rating: true, timestamp: true }),
  "our ratings file": hasFields({ v: true, targets: "record of array of object" }),
  "the shadow history": hasFields({ v: true, enabled: true, comparisons: true }),
  "team mode's pending ledger entries": hasFields({ reservationProvider: true, changes: true }),
  "team mode's unwritten marker": hasFields({ stores: "default" }),
  "the earlier implementation's stats": hasFields({ version: true, daily: true, monthly: true, limits: true }),
  "the earlier implementation's latency": hasFields({ count: true, totalMs: true, lastMs: true, updatedAt: true }),
  "OpenRouter's generation answer": hasFields({ provider_name: "string" }),
};

/** A full collection, twice with a turn between (a WeakRef keeps its target until the job that made it ends). */
async function collectGarbage(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  for (let round = 0; round < 2; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

// From before the first test: the bundle is evaluated once per process, by the first session that loads it, and a
// schema built at its load would be built then.
const recording = recordObjectSchemas();
after(() => recording.stop());

let harness: SdkHarness | undefined;
let logDirectory: string | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
  if (logDirectory) rmSync(logDirectory, { recursive: true, force: true });
  logDirectory = undefined;
});

describe("loading the extension", () => {
  it("loads the prebuilt bundle and no Redis client, gateway or analytics bundle", async (context) => {
    if (process.env.AUTO_ROUTER_FROM_SOURCE === "1") return context.skip("the extension runs from its sources here");
    // A session without the extension first, so what pi and the test fixtures load is in the cache already.
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, extensionPaths: [], ui: false });
    await harness.dispose();
    const before = packageFilesLoaded();
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, ui: false });
    await harness.setModel("auto-router", "main");
    harness.faux("load-target").setResponses([harness.fauxHelpers.fauxAssistantMessage("hello")]);
    await harness.prompt("hi");
    assert.equal(harness.lastAssistant()?.content?.[0]?.text, "hello", "the routed prompt was answered");
    const added = [...packageFilesLoaded()].filter((file) => !before.has(file)).sort();
    assert.ok(added.includes(`dist${sep}auto-router.cjs`), `the bundle is what runs (added: ${added.join(", ")})`);
    const others = added.filter((file) => file !== `dist${sep}auto-router.cjs` && file !== "pi-extension.ts");
    assert.deepEqual(others, [], "nothing else of the package is loaded");
  });

  // In this order: every session before the next test is a plain one, and a schema built on first use is kept.
  it("builds no schema of a file a plain session does not have, and keeps no config schema after parsing", async () => {
    harness = await createSdkHarness({ targets: TARGETS, routes: ROUTES, ui: false });
    await harness.setModel("auto-router", "main");
    harness.faux("load-target").setResponses([harness.fauxHelpers.fauxAssistantMessage("hello")]);
    await harness.prompt("hi");
    assert.equal(harness.lastAssistant()?.content?.[0]?.text, "hello", "the routed prompt was answered");
    const { built } = recording;
    const configSchemas = built.filter(CONFIG_ROOT);
    assert.ok(configSchemas.length > 0, "the routes file was parsed with the config schema (the hook sees the bundle)");
    for (const [file, matches] of Object.entries(RARELY_READ))
      assert.equal(built.filter(matches).length, 0, `no schema of ${file} is built`);
    await collectGarbage();
    assert.deepEqual(
      configSchemas.filter((schema) => schema.schema.deref() !== undefined).length,
      0,
      "the config schema is not kept once the routes file is parsed",
    );
  });

  it("builds the old ratings schema once an earlier implementation's ratings file is there", async () => {
    logDirectory = freshDir("auto-router-load-ratings");
    writeFileSync(
      join(logDirectory, "auto-router.ratings.json"),
      JSON.stringify([{ provider: "load-target", modelId: "model", rating: "good", timestamp: 1777626000000 }]),
    );
    harness = await createSdkHarness({
      targets: TARGETS,
      routes: ROUTES,

      env: { AUTO_ROUTER_LOG_DIR: logDirectory },
    });
    assert.match(await harness.command("/auto-router rate"), /load-target\/model: 0 bad, 1 good/);
    const { built } = recording;
    assert.ok(built.some(RARELY_READ["the earlier implementation's ratings"]), "the old ratings' schema was built");
  });
});
