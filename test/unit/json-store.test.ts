import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  EARLY_FLUSH_OPERATIONS,
  openJsonStore,
  type JsonStoreOptions,
  type StoreWarning,
} from "../../src/state/json-store.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";
import { exitRegistry } from "../../src/state/exit-flush.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

type Tally = { count: number; names: string[] };

const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKER = join(REPOSITORY_ROOT, "test", "fixtures", "store-worker.ts");
/** A long debounce so only explicit flush()/flushSync() calls write during a test. */
const NO_AUTOMATIC_FLUSH_MS = 60_000;

function tallyOptions(file: string, warnings: StoreWarning[] = []): JsonStoreOptions<Tally> {
  return {
    file,
    defaults: () => ({ count: 0, names: [] }),
    parse: (raw) => {
      const value = raw as Partial<Tally> | null;
      if (!value || typeof value.count !== "number" || !Array.isArray(value.names))
        throw new Error("count must be a number");
      return { count: value.count, names: value.names.map(String) };
    },
    onWarning: (warning) => warnings.push(warning),
    flushDelayMs: NO_AUTOMATIC_FLUSH_MS,
    refreshIntervalMs: 0,
  };
}

const addOne = (state: Tally): Tally => ({ ...state, count: state.count + 1 });
const addName =
  (name: string) =>
  (state: Tally): Tally => ({ ...state, names: [...state.names, name] });

function readTally(file: string): Tally {
  return JSON.parse(readFileSync(file, "utf8")) as Tally;
}

describe("openJsonStore: persistence", () => {
  it("shows an update in read() at once and persists it on flush for a newly opened store", async () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    const store = openJsonStore(tallyOptions(file));
    store.update(addOne);
    assert.equal(store.read().count, 1);
    assert.equal(existsSync(file), false, "update() must not write synchronously");
    await store.flush();
    assert.equal(readTally(file).count, 1);
    const reopened = openJsonStore(tallyOptions(file));
    assert.equal(reopened.read().count, 1);
    await Promise.all([store.close(), reopened.close()]);
  });

  it("loses no increment when two stores on one file interleave updates and flushes", async () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    const first = openJsonStore(tallyOptions(file));
    const second = openJsonStore(tallyOptions(file));
    for (let round = 0; round < 40; round += 1) {
      first.update(addOne);
      second.update(addOne);
      if (round % 3 === 0) await Promise.all([first.flush(), second.flush()]);
      else if (round % 5 === 0) await second.flush();
    }
    await Promise.all([first.close(), second.close()]);
    assert.equal(readTally(file).count, 80);
  });

  it("writes queued operations synchronously with flushSync()", () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    const store = openJsonStore(tallyOptions(file));
    store.update(addOne);
    store.update(addName("sync"));
    store.flushSync();
    assert.deepEqual(readTally(file), { count: 1, names: ["sync"] });
    void store.close();
  });

  it("applies migrate() to an old shape before parse()", async () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    writeFileSync(file, JSON.stringify({ total: 7 }));
    const store = openJsonStore({
      ...tallyOptions(file),
      migrate: (raw) => {
        const old = raw as { total?: number };
        return old.total !== undefined ? { count: old.total, names: [] } : raw;
      },
    });
    assert.equal(store.read().count, 7);
    store.update(addOne);
    await store.close();
    assert.deepEqual(readTally(file), { count: 8, names: [] });
  });
});

describe("openJsonStore: other processes' writes", () => {
  it("picks up another store's write on refresh()", async () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    const reader = openJsonStore(tallyOptions(file));
    const writer = openJsonStore(tallyOptions(file));
    writer.update(addName("from-writer"));
    await writer.flush();
    assert.deepEqual(reader.read().names, []);
    await reader.refresh();
    assert.deepEqual(reader.read().names, ["from-writer"]);
    await Promise.all([reader.close(), writer.close()]);
  });

  it("re-applies operations still queued before a refresh on top of the refreshed state", async () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    const local = openJsonStore(tallyOptions(file));
    const other = openJsonStore(tallyOptions(file));
    local.update(addOne);
    other.update(addName("other"));
    other.update(addOne);
    await other.flush();
    await local.refresh();
    assert.deepEqual(local.read(), { count: 2, names: ["other"] });
    await local.flush();
    assert.deepEqual(readTally(file), { count: 2, names: ["other"] });
    await Promise.all([local.close(), other.close()]);
  });
});

describe("openJsonStore: damaged files", () => {
  const cases: Array<[string, string]> = [
    ["corrupt JSON", "{not json at all"],
    ["a truncated file", '{"count": 4, "names": ["a", "b'],
    ["wrong types", '{"count": "four", "names": []}'],
  ];
  for (const [description, content] of cases) {
    it(`moves ${description} aside as .corrupt-<timestamp>, warns once naming both paths, and uses defaults`, async () => {
      const dir = freshDir("auto-router-store");
      const file = join(dir, "auto-router.tally.json");
      writeFileSync(file, content);
      const warnings: StoreWarning[] = [];
      const store = openJsonStore(tallyOptions(file, warnings));
      assert.deepEqual(store.read(), { count: 0, names: [] });
      const moved = readdirSync(dir).filter((name) => name.startsWith("auto-router.tally.json.corrupt-"));
      assert.equal(moved.length, 1);
      assert.equal(readFileSync(join(dir, moved[0]!), "utf8"), content, "the bad copy keeps its exact bytes");
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]!.file, file);
      assert.ok(warnings[0]!.message.includes(join(dir, moved[0]!)), warnings[0]!.message);
      // The sink puts the file in front of the message: the message names only where the copy went.
      assert.ok(!warnings[0]!.message.replace(join(dir, moved[0]!), "").includes(file), warnings[0]!.message);
      store.update(addOne);
      await store.close();
      assert.deepEqual(readTally(file), { count: 1, names: [] });
    });
  }

  it("keeps what can be read from a wrong-typed field, warns once, keeps the bad copy and writes the salvaged state", async () => {
    const dir = freshDir("auto-router-store");
    const file = join(dir, "auto-router.tally.json");
    const content = '{"count": "4", "names": ["kept"]}';
    writeFileSync(file, content);
    const warnings: StoreWarning[] = [];
    const salvage = (raw: unknown): Tally => {
      const value = raw as { count?: unknown; names?: unknown[] };
      return { count: Number(value.count) || 0, names: Array.isArray(value.names) ? value.names.map(String) : [] };
    };
    const store = openJsonStore({ ...tallyOptions(file, warnings), salvage });
    assert.deepEqual(store.read(), { count: 4, names: ["kept"] });
    const moved = readdirSync(dir).filter((name) => name.startsWith("auto-router.tally.json.corrupt-"));
    assert.equal(moved.length, 1);
    assert.equal(readFileSync(join(dir, moved[0]!), "utf8"), content, "the bad copy keeps its exact bytes");
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!.message,
      /partly unreadable \(invalid content: count must be a number\); moved aside to .*corrupt-.* and kept every value that could be read/,
    );
    assert.deepEqual(
      readTally(file),
      { count: 4, names: ["kept"] },
      "written back before any update, so a restart keeps it",
    );
    store.update(addOne);
    await store.close();
    assert.deepEqual(readTally(file), { count: 5, names: ["kept"] });
  });

  it("moves a file corrupted by someone else after open aside on the next flush, rewrites it from its last view and keeps the queued update", async () => {
    const dir = freshDir("auto-router-store");
    const file = join(dir, "auto-router.tally.json");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(file, warnings));
    store.update(addOne);
    await store.flush();
    writeFileSync(file, "]]garbage");
    store.update(addName("after"));
    await store.flush();
    assert.deepEqual(readTally(file), { count: 1, names: ["after"] });
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!.message,
      /^unreadable \(invalid JSON at line 1, column 1: Unexpected token '\]'\); moved aside to .*corrupt-.* and rewritten from this process's last view of it$/,
    );
    assert.equal(readdirSync(dir).filter((name) => name.includes(".corrupt-")).length, 1);
    await store.close();
  });

  it("writes a NUL-filled file's bytes as \\u0000 in its warning, never raw to the terminal", async () => {
    const dir = freshDir("auto-router-store");
    const file = join(dir, "auto-router.tally.json");
    writeFileSync(file, "\u0000".repeat(64));
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(file, warnings));
    await store.refresh();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /^unreadable \(invalid JSON at line 1, column 1: Unexpected token '\\u0000'\)/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the raw byte must not be there
    assert.doesNotMatch(warnings[0]!.message, /[\u0000-\u001f]/);
    await store.close();
  });

  it("loses no process's spend when the shared file is truncated: the next writer rewrites it from its view, once", async () => {
    const dir = freshDir("auto-router-store");
    const file = join(dir, "auto-router.tally.json");
    const firstWarnings: StoreWarning[] = [];
    const secondWarnings: StoreWarning[] = [];
    const first = openJsonStore(tallyOptions(file, firstWarnings));
    const second = openJsonStore(tallyOptions(file, secondWarnings));
    for (let round = 0; round < 3; round += 1) first.update(addOne);
    await first.flush();
    await second.refresh();
    assert.equal(second.read().count, 3, "the second store has seen the first's spend");
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
    second.update(addName("second"));
    await second.flush();
    assert.deepEqual(
      readTally(file),
      { count: 3, names: ["second"] },
      "rewritten from the second's view, plus its update",
    );
    first.update(addOne);
    await first.flush();
    await second.refresh();
    assert.deepEqual(readTally(file), { count: 4, names: ["second"] });
    assert.deepEqual(second.read(), { count: 4, names: ["second"] });
    assert.equal(readdirSync(dir).filter((name) => name.includes(".corrupt-")).length, 1, "moved aside once");
    assert.deepEqual(firstWarnings, [], "the first found the rewritten file good");
    assert.equal(secondWarnings.length, 1);
    // Cut short: broken where the text ends (V8's words depend on where the cut falls).
    assert.match(
      secondWarnings[0]!.message,
      new RegExp(
        `^unreadable \\(invalid JSON at line 1, column ${Math.floor(text.length / 2) + 1}: [^)]+\\); moved aside`,
      ),
    );
    await Promise.all([first.close(), second.close()]);
  });

  it("notices a file cut short by another program right after its own write, before it could look at what it wrote", async () => {
    const dir = freshDir("auto-router-store");
    const file = join(dir, "auto-router.tally.json");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(file, warnings));
    store.update(addOne);
    await store.flush();
    // The store's own write lands (renamed into place); before its stat of the file, someone truncates it (a user, a
    // test, a process of an older version writing without the lock). That stat must not pass for the store's write.
    const promises = createRequire(import.meta.url)("node:fs/promises") as typeof import("node:fs/promises");
    const originalStat = promises.stat;
    let cut = false;
    promises.stat = (async (...args: Parameters<typeof originalStat>) => {
      if (!cut && args[0] === file) {
        cut = true;
        const text = readFileSync(file, "utf8");
        writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
      }
      return originalStat(...args);
    }) as typeof originalStat;
    syncBuiltinESMExports();
    try {
      store.update(addName("second"));
      await store.flush();
    } finally {
      promises.stat = originalStat;
      syncBuiltinESMExports();
    }
    assert.ok(cut, "the file was cut right after the store's write");
    await store.refresh();
    assert.deepEqual(readTally(file), { count: 1, names: ["second"] }, "rewritten from the store's view");
    assert.equal(readdirSync(dir).filter((name) => name.includes(".corrupt-")).length, 1, "the cut file moved aside");
    assert.equal(warnings.length, 1);
    await store.close();
  });

  it("rewrites a damaged file from its view completed by what salvage reads, the view winning where both hold a value", async () => {
    type Book = { entries: Record<string, number> };
    const dir = freshDir("auto-router-store");
    const file = join(dir, "auto-router.book.json");
    const warnings: StoreWarning[] = [];
    const parse = (raw: unknown): Book => {
      const entries = (raw as Book | null)?.entries;
      if (!entries || Object.values(entries).some((value) => typeof value !== "number"))
        throw new Error("entries must be numbers");
      return { entries: { ...entries } };
    };
    const salvage = (raw: unknown): Book => ({
      entries: Object.fromEntries(
        Object.entries((raw as Book).entries).filter(([, value]) => typeof value === "number"),
      ),
    });
    const store = openJsonStore<Book>({
      file,
      defaults: () => ({ entries: {} }),
      parse,
      salvage,
      onWarning: (warning) => warnings.push(warning),
      flushDelayMs: NO_AUTOMATIC_FLUSH_MS,
      refreshIntervalMs: 0,
    });
    store.update((state) => ({ entries: { ...state.entries, mine: 5 } }));
    await store.flush();
    writeFileSync(file, JSON.stringify({ entries: { mine: 1, theirs: 2, broken: "x" } }));
    store.update((state) => ({ entries: { ...state.entries, later: 1 } }));
    await store.flush();
    assert.deepEqual(readTally(file) as unknown, { entries: { mine: 5, theirs: 2, later: 1 } });
    assert.match(
      warnings[0]!.message,
      /rewritten from this process's last view of it and every other value that could be read$/,
    );
    await store.close();
  });

  it("moves an emptied file aside with one warning (the store itself never leaves an empty file)", () => {
    const dir = freshDir("auto-router-store");
    const file = join(dir, "auto-router.tally.json");
    writeFileSync(file, "");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(file, warnings));
    assert.deepEqual(store.read(), { count: 0, names: [] });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /empty file/);
    assert.ok(readdirSync(dir).some((name) => name.startsWith("auto-router.tally.json.corrupt-")));
    void store.close();
  });

  it("creates no file until it has something to write", async () => {
    const dir = freshDir("auto-router-store");
    const store = openJsonStore(tallyOptions(join(dir, "auto-router.tally.json")));
    await store.flush();
    await store.close();
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe("openJsonStore: unwritable locations", () => {
  it("warns once and keeps working in memory when the directory cannot be created", async () => {
    const dir = freshDir("auto-router-store");
    writeFileSync(join(dir, "blocker"), "a regular file where a directory should be");
    const file = join(dir, "blocker", "state", "auto-router.tally.json");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(file, warnings));
    store.update(addOne);
    await store.flush();
    store.update(addOne);
    await store.flush();
    store.flushSync();
    assert.equal(store.read().count, 2);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0]!.file, file);
    await store.close();
  });

  // root ignores file modes, so as root the probe runs as the unprivileged "nobody" user, which needs to read the
  // checkout; in a checkout only root can read (e.g. under a 0700 temp dir) that cannot be arranged.
  const nobodyCanReadCheckout =
    process.getuid?.() !== 0 ||
    spawnSync(process.execPath, ["-e", `require("fs").accessSync(${JSON.stringify(WORKER)})`], {
      uid: 65534,
      gid: 65534,
    }).status === 0;
  it("warns and keeps the update in memory when the file and its directory are read-only", {
    skip: nobodyCanReadCheckout ? false : "running as root in a checkout the unprivileged user cannot read",
  }, () => {
    const dir = freshDir("auto-router-store");
    const readOnlyDir = join(dir, "read-only");
    mkdirSync(readOnlyDir);
    const file = join(readOnlyDir, "auto-router.counter.json");
    writeFileSync(file, JSON.stringify({ counter: 5, perProcess: {}, budget: null }));
    chmodSync(file, 0o444);
    chmodSync(readOnlyDir, 0o555);
    chmodSync(dir, 0o755);
    const asUnprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const result = spawnSync(process.execPath, ["--import", "tsx", WORKER, file, "1", "probe", "probe"], {
      cwd: REPOSITORY_ROOT,
      encoding: "utf8",
      ...asUnprivileged,
    });
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split("\n").pop()!) as {
      value: { counter: number };
      warnings: StoreWarning[];
    };
    assert.equal(report.value.counter, 6);
    assert.equal(report.warnings.length, 1, JSON.stringify(report.warnings));
    assert.equal(report.warnings[0]!.file, file);
    assert.equal(JSON.parse(readFileSync(file, "utf8")).counter, 5);
  });

  it("refuses to write a file pi would load as an extension and keeps that store in memory", async () => {
    const dir = freshDir("auto-router-store");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(join(dir, "auto-router.tally.js"), warnings));
    store.update(addOne);
    await store.close();
    assert.equal(store.read().count, 1);
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(warnings.length, 1);
  });

  it("drops an operation that throws, with a warning, instead of throwing from update()", () => {
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(join(freshDir("auto-router-store"), "auto-router.tally.json"), warnings));
    assert.doesNotThrow(() =>
      store.update(() => {
        throw new Error("bug in an operation");
      }),
    );
    assert.equal(store.read().count, 0);
    assert.equal(warnings.length, 1);
    void store.close();
  });
});

describe("openJsonStore: permissions and directory contents", () => {
  it("creates the directory with mode 0700 and the file with mode 0600", async () => {
    const dir = join(freshDir("auto-router-store"), "created-by-store");
    const file = join(dir, "auto-router.tally.json");
    const store = openJsonStore(tallyOptions(file));
    store.update(addOne);
    await store.close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it("leaves a pre-existing 0644 file at mode 0600 after a write", async () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    writeFileSync(file, JSON.stringify({ count: 1, names: [] }));
    chmodSync(file, 0o644);
    const store = openJsonStore(tallyOptions(file));
    store.update(addOne);
    await store.close();
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it("leaves only flat files that do not end in .ts or .js in the directory", async () => {
    const dir = freshDir("auto-router-store");
    const file = join(dir, "auto-router.tally.json");
    writeFileSync(file, "{broken");
    const first = openJsonStore(tallyOptions(file));
    const second = openJsonStore(tallyOptions(file));
    for (let index = 0; index < 5; index += 1) {
      first.update(addOne);
      second.update(addOne);
      await Promise.all([first.flush(), second.flush()]);
    }
    await Promise.all([first.close(), second.close()]);
    for (const entry of readdirSync(dir)) {
      assert.ok(statSync(join(dir, entry)).isFile(), `${entry} is not a plain file`);
      assert.doesNotMatch(entry, /\.[cm]?[jt]s$/);
    }
  });
});

describe("openJsonStore: updated faster than its flush delay", () => {
  it("writes every EARLY_FLUSH_OPERATIONS updates without waiting for its delay, and persists all 25,000", async () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(file, warnings));
    const UPDATES = 25_000;
    const onDisk = () => (existsSync(file) ? readTally(file).count : 0);
    for (let index = 1; index <= UPDATES; index += 1) {
      store.update(addOne);
      if (index % EARLY_FLUSH_OPERATIONS !== 0) continue;
      // The write of the batch before this one has landed (event-loop turns counted, never time): its flush
      // delay is a minute, so only an early flush can have written it.
      let turns = 0;
      while (onDisk() < index - EARLY_FLUSH_OPERATIONS && turns < 100_000) {
        await new Promise((resolve) => setImmediate(resolve));
        turns += 1;
      }
      assert.ok(onDisk() >= index - EARLY_FLUSH_OPERATIONS, `after ${index} updates the file holds ${onDisk()}`);
    }
    await store.close();
    assert.equal(readTally(file).count, UPDATES);
    assert.deepEqual(warnings, []);
  });
});

describe("openJsonStore: after close()", () => {
  it("writes an update made after close() (a request still in flight at shutdown) at process exit", async () => {
    const file = join(freshDir("auto-router-store"), "auto-router.tally.json");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(tallyOptions(file, warnings));
    store.update(addOne);
    await store.close();
    store.update(addName("late"));
    // What the process's exit hook does (exit-flush.ts): every registered store with work left writes it synchronously.
    for (const participant of exitRegistry().participants) if (participant.hasPendingWork()) participant.flushSync();
    assert.deepEqual(readTally(file), { count: 1, names: ["late"] });
    assert.deepEqual(warnings, []);
  });
});

describe("openJsonStore: process resources", () => {
  it("adds at most one exit listener and unregisters closed stores when 100 are opened and closed", async () => {
    const dir = freshDir("auto-router-store");
    const registry = (globalThis as unknown as Record<symbol, { participants: Set<unknown> } | undefined>)[
      Symbol.for("pi-auto-router.state.exit-registry")
    ];
    const listenersBefore = process.listenerCount("exit");
    const participantsBefore = registry?.participants.size ?? 0;
    for (let index = 0; index < 100; index += 1) {
      const store = openJsonStore({
        ...tallyOptions(join(dir, `auto-router.tally-${index}.json`)),
        refreshIntervalMs: 1000,
      });
      store.update(addOne);
      await store.close();
    }
    assert.ok(process.listenerCount("exit") <= listenersBefore + 1);
    const after = (globalThis as unknown as Record<symbol, { participants: Set<unknown> }>)[
      Symbol.for("pi-auto-router.state.exit-registry")
    ];
    assert.equal(after!.participants.size, participantsBefore);
  });
});

describe("createMemoryStore", () => {
  it("applies updates in memory and has no file", async () => {
    const store = createMemoryStore<Tally>({ count: 0, names: [] });
    store.update(addOne);
    await store.flush();
    await store.refresh();
    assert.equal(store.read().count, 1);
    assert.equal(store.file, undefined);
  });
});
