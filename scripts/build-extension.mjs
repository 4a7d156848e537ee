#!/usr/bin/env node
// Builds dist/auto-router.cjs: the whole extension in one CommonJS file, so pi's loader does not transpile ~70 .ts
// files on every start (measured: ~1 s added on a first run). pi-extension.ts compiles it with V8's code cache
// (CommonJS, because Node offers a code cache for vm.Script but not for ES modules on Node 20).
//
// The bundle is loaded outside pi's loader, where pi's import aliases do not apply: an `import "@mariozechner/pi-ai"`
// inside it could resolve to another copy of pi-ai than the host's (a separate api registry, or a missing package
// under newer pi). So the bundle never imports pi itself: its pi imports are replaced by a virtual module that reads
// the host's modules from a global set by pi-extension.ts, which pi loads through its own loader.
// The runtime dependencies (zod, proper-lockfile, write-file-atomic) are bundled too: loading zod's ~100 ES modules
// one by one cost ~20 ms of start-up on its own (measured: 65 ms to load with them external, 42 ms bundled).
import { fileURLToPath } from "node:url";

// esbuild comes with tsx (a runtime dependency). If it is missing anyway, pi-extension.ts loads the sources.
let build;
try {
  ({ build } = await import("esbuild"));
} catch {
  console.warn("pi-auto-router: esbuild not found; skipping the bundle (the extension will load its sources, more slowly)");
  process.exit(0);
}

export const HOST_GLOBAL = "pi-auto-router.host";
// Every value the source imports from pi. A name missing here fails the build ("No matching export").
const HOST_EXPORTS = {
  "@mariozechner/pi-ai": ["streamSimple", "createAssistantMessageEventStream", "isContextOverflow", "getModel", "getModels", "getProviders"],
  "@mariozechner/pi-coding-agent": ["getAgentDir", "VERSION"],
};

const hostModules = {
  name: "pi-host-modules",
  setup(builder) {
    builder.onResolve({ filter: /^@mariozechner\/(pi-ai|pi-coding-agent)$/ }, (args) => ({ path: args.path, namespace: "pi-host" }));
    builder.onLoad({ filter: /.*/, namespace: "pi-host" }, (args) => {
      const names = HOST_EXPORTS[args.path];
      const lines = [
        `const host = globalThis[Symbol.for(${JSON.stringify(HOST_GLOBAL)})];`,
        `if (!host) throw new Error("pi-auto-router: load the extension through pi-extension.ts (pi's host modules are missing)");`,
        `const module = host[${JSON.stringify(args.path)}];`,
        ...names.map((name) => `export const ${name} = module.${name};`),
      ];
      return { contents: lines.join("\n"), loader: "js" };
    });
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

const root = fileURLToPath(new URL("..", import.meta.url));
await build({
  entryPoints: [`${root}/index.ts`],
  outfile: `${root}/dist/auto-router.cjs`,
  bundle: true,
  format: "cjs",
  platform: "node",
  // jsonc-parser's "main" is a UMD build whose require() calls esbuild cannot follow; its "module" build bundles.
  mainFields: ["module", "main"],
  target: "node20",
  banner: { js: "// Built by scripts/build-extension.mjs from index.ts and src/; do not edit." },
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [hostModules, englishOnlyZodLocales],
  // Team mode's Redis client is loaded (by a dynamic import) only when a team store is configured: kept out of the
  // bundle, so the file-store start-up neither parses nor compiles its ~220 KB.
  external: ["ioredis"],
  // The bundle runs in a vm.Script, where import() has no loader: dynamic imports become require() calls.
  supported: { "dynamic-import": false },
  define: { AUTO_ROUTER_BUNDLE: "true" },
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
