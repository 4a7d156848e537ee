#!/usr/bin/env node
// Builds the two files the installed package runs, so it needs neither TypeScript tooling nor its dependencies at
// runtime (zod, proper-lockfile and write-file-atomic are bundled; loading zod's ~100 ES modules one by one cost
// ~20 ms of start-up on its own):
//
// - dist/auto-router.cjs: the extension. pi's loader does not then transpile ~80 .ts files on every start (measured:
//   ~1 s added on a first run). It exports `createAutoRouter(host)`, which pi-extension.ts calls with the HOST's pi
//   modules: the bundle is loaded outside pi's loader, where pi's import aliases do not apply, so an import of
//   "@mariozechner/pi-ai" of its own could find another copy than the host's (a separate api registry, or no package
//   at all under newer pi). Every pi import in the sources becomes a read of the module object passed in, whole: there
//   is no list of names to keep in step with the sources.
// - dist/routing-cli.mjs: the analytics behind scripts/routing-*.mjs.
// - dist/gateway.mjs: `pi-auto-router serve` (bin/pi-auto-router.mjs), fastify included; pi stays the installed one.
// - dist/redis-client.cjs: ioredis, loaded by both only in team mode.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// What the build needs besides the sources: esbuild and the packages it bundles (devDependencies, like everything
// that is not needed at runtime).
const BUILD_PACKAGES = ["esbuild", "zod", "proper-lockfile", "write-file-atomic", "jsonc-parser", "fastify", "ioredis"];

// `pi install <git url>` runs `npm install --omit=dev` in its clone, so `prepare` may find none of them. Then they are
// installed for this build only, into a temporary directory (npm is already talking to the registry), and removed.
let toolchain;
let build;
try {
  ({ build } = await import("esbuild"));
  for (const name of BUILD_PACKAGES) import.meta.resolve(name);
} catch {
  const versions = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies;
  toolchain = mkdtempSync(join(tmpdir(), "pi-auto-router-build-"));
  process.on("exit", () => rmSync(toolchain, { recursive: true, force: true }));
  console.warn(
    `pi-auto-router: installing ${BUILD_PACKAGES.join(", ")} for the build (devDependencies are not installed)`,
  );
  try {
    execFileSync(
      "npm",
      [
        "install",
        "--prefix",
        toolchain,
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        ...BUILD_PACKAGES.map((name) => `${name}@${versions[name]}`),
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    ({ build } = await import(new URL("node_modules/esbuild/lib/main.js", `file://${toolchain}/`).href));
  } catch (error) {
    console.warn(
      `pi-auto-router: could not install the build tools (${error.message}); the extension will load its sources, more slowly`,
    );
    process.exit(0);
  }
}
const nodePaths = toolchain ? [join(toolchain, "node_modules")] : [];

/** The name under which the bundle's factory receives pi's modules; free in the bundle, bound by its wrapper. */
const HOST_PARAMETER = "__piAutoRouterHost";
const PI_MODULES = /^@mariozechner\/(pi-ai|pi-coding-agent)$/;

const hostModules = {
  name: "pi-host-modules",
  setup(builder) {
    builder.onResolve({ filter: PI_MODULES }, (args) => ({ path: args.path, namespace: "pi-host" }));
    // CommonJS, so esbuild reads each imported name off the host's module object when it is used.
    builder.onLoad({ filter: /.*/, namespace: "pi-host" }, (args) => ({
      contents: `module.exports = ${HOST_PARAMETER}[${JSON.stringify(args.path)}];`,
      loader: "js",
    }));
  },
};

// zod re-exports ~50 message locales (290 KB of the bundle) that the extension never uses: its messages are English
// and it never calls z.config(). Only `en` is kept.
const englishOnlyZodLocales = {
  name: "zod-english-only",
  setup(builder) {
    builder.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: "js",
    }));
  },
};

// The sources import zod as `import { z } from "zod"`, where `z` is zod's whole namespace object: a bundle that
// holds the object must hold everything in it (~60% of zod, unused, and every schema class of it is created when the
// bundle loads). Read as `import * as z from "zod"`, which means the same to every `z.` in the sources, each `z.object`
// is a direct reference and esbuild leaves out what no source uses. Any other value import of zod would bring the
// whole namespace back, so it fails the build.
const ZOD_IMPORT = /^import\s+(?!type\s)([^;]*?)\s+from\s+"zod(?:\/[^"]*)?";/gm;
const zodNamespaceImports = {
  name: "zod-namespace-imports",
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = await readFile(args.path, "utf8");
      if (!source.includes('"zod')) return undefined;
      const errors = [];
      const contents = source.replace(ZOD_IMPORT, (line, bindings) => {
        if (bindings === "{ z }" || bindings === "* as z") return 'import * as z from "zod";';
        errors.push({ text: `import zod as \`import { z } from "zod"\` (or a type import), not: ${line}` });
        return line;
      });
      return errors.length > 0 ? { errors } : { contents, loader: "ts" };
    });
  },
};

// Team mode's Redis client is loaded (by a dynamic import) only when a team store is configured: it is bundled on its
// own (dist/redis-client.cjs), so the file-store start-up neither parses nor compiles its ~220 KB, and the installed
// package needs no node_modules of its own.
const REDIS_CLIENT = "./redis-client.cjs";
const redisClientApart = {
  name: "redis-client-apart",
  setup(builder) {
    builder.onResolve({ filter: /^ioredis$/ }, () => ({ path: REDIS_CLIENT, external: true }));
  },
};

const common = {
  nodePaths,
  bundle: true,
  platform: "node",
  // jsonc-parser's "main" is a UMD build whose require() calls esbuild cannot follow; its "module" build bundles.
  mainFields: ["module", "main"],
  target: "node20",
  minifyWhitespace: !process.env.BUILD_READABLE,
  minifySyntax: true,
  // Short local names: the bundles are ~30% smaller, which keeps the installed package small (fastify and its
  // dependencies are most of the gateway's). BUILD_READABLE=1 keeps the names and the lines (with each source file's
  // path above its code), for reading a CPU profile.
  minifyIdentifiers: !process.env.BUILD_READABLE,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: [`${root}/index.ts`],
  outfile: `${root}/dist/auto-router.cjs`,
  format: "cjs",
  // The whole bundle runs inside the factory, so every module sees the host's pi modules from its first line. It runs
  // once per host pi in a process: pi evaluates pi-extension.ts again for every session it creates, and a second run
  // would install a second set of the bundled dependencies' process hooks (signal-exit's SIGHUP/SIGINT/... listeners).
  // pi's loader hands each session a new module object, so the host is known by one of its functions.
  banner: {
    js: [
      "// Built by scripts/build-extension.mjs from index.ts and src/; do not edit.",
      "const created = new WeakMap();",
      "module.exports = function createAutoRouter(host) {",
      '  const key = host["@mariozechner/pi-ai"].streamSimple;',
      "  if (!created.has(key)) created.set(key, evaluate(host));",
      "  return created.get(key);",
      "};",
      `function evaluate(${HOST_PARAMETER}) {`,
      '"use strict";',
      "const module = { exports: {} }, exports = module.exports;",
    ].join("\n"),
  },
  footer: { js: "return module.exports.default;\n}" },
  plugins: [hostModules, zodNamespaceImports, englishOnlyZodLocales, redisClientApart],
  define: { AUTO_ROUTER_BUNDLE: "true" },
  // pi-extension.ts compiles the bundle with V8's code cache (a vm Script), where a dynamic import() cannot run: the
  // Redis client's is made a require.
  supported: { "dynamic-import": false },
});

await build({
  ...common,
  entryPoints: ["ioredis"],
  outfile: `${root}/dist/redis-client.cjs`,
  format: "cjs",
  banner: { js: "// Built by scripts/build-extension.mjs from ioredis; do not edit." },
});

// The scripts' and the gateway's chunks are named by content hash: remove the previous build's, or a package packed
// after several builds would ship every stale one (package.json's files take dist/routing-cli*.mjs, dist/gateway*.mjs).
for (const name of readdirSync(`${root}/dist`, { withFileTypes: true })) {
  if (name.isFile() && /^(routing-cli|gateway)-[A-Z0-9]+\.mjs$/.test(name.name)) rmSync(`${root}/dist/${name.name}`);
}

await build({
  ...common,
  entryPoints: { "routing-cli": `${root}/src/analytics/cli-entry.ts` },
  outdir: `${root}/dist`,
  outExtension: { ".js": ".mjs" },
  format: "esm",
  // Split: an earlier-format log loads the failure classifier, and with it pi-ai, by a dynamic import; in its own
  // chunk that import stays dynamic, so the scripts run without pi-ai installed until such a log is read.
  splitting: true,
  chunkNames: "routing-cli-[hash]",
  banner: { js: "// Built by scripts/build-extension.mjs from src/analytics; do not edit." },
  // The replay's model catalogue comes from pi-ai when it is installed beside the scripts, never from the bundle.
  external: ["@mariozechner/pi-ai", "@earendil-works/pi-ai"],
  plugins: [zodNamespaceImports, englishOnlyZodLocales],
});

await build({
  ...common,
  entryPoints: { gateway: `${root}/src/gateway/cli.ts` },
  outdir: `${root}/dist`,
  outExtension: { ".js": ".mjs" },
  format: "esm",
  // Split: serve loads the engine, fastify and pi by a dynamic import; in a chunk of its own that import stays
  // dynamic, so `--help` and a usage error are answered at once, without pi.
  splitting: true,
  chunkNames: "gateway-[hash]",
  banner: {
    js: [
      "// Built by scripts/build-extension.mjs from src/gateway and the engine; do not edit.",
      // Bundled CommonJS dependencies (proper-lockfile, write-file-atomic) use require() and __filename, which an ES
      // module does not have.
      'import { createRequire as __createRequire } from "node:module"; import { fileURLToPath as __toPath } from "node:url";',
      "const require = __createRequire(import.meta.url); const __filename = __toPath(import.meta.url);",
    ].join("\n"),
  },
  // The gateway opens pi's credentials through the installed pi packages, like pi itself; fastify is bundled.
  external: ["@mariozechner/pi-ai", "@mariozechner/pi-coding-agent", "@earendil-works/*"],
  plugins: [zodNamespaceImports, englishOnlyZodLocales, redisClientApart],
  define: { AUTO_ROUTER_BUNDLE: "true" },
});
