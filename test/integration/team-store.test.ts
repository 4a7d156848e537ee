// The Redis team store through the same StateStore interface as the file store, against a real redis-server:
// two backends in one process stand for two machines (each its own connection, writer id and state dir).
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { COMPARE_AND_SET_LUA } from "../../src/team/redis-scripts.ts";
import { openStateBackend, type StateBackend } from "../../src/team/state-backend.ts";
import { describeBackendLines } from "../../src/team/team-plugin.ts";
import { resolveTeamSettings } from "../../src/team/team-settings.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";
import { eventually } from "../helpers/temp-and-workers.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

type Tally = { count: number; names: string[] };
const defaults = (): Tally => ({ count: 0, names: [] });
const parse = (raw: unknown): Tally => {
  const value = raw as Tally;
  if (typeof value?.count !== "number") throw new Error("count must be a number");
  return value;
};
const addOne = (state: Tally): Tally => ({ ...state, count: state.count + 1 });

/** Polls a condition the store reaches asynchronously (a pub/sub notice, a reconnect); counts attempts, not time. */
describe("team store on Redis", () => {
  let redis: RedisServer;
  const dirs: string[] = [];
  const backends: StateBackend[] = [];
  const warnings: string[] = [];

  /** A process of machine `name` on state dir `dir`. */
  const backendOf = (name: string, dir: string, url: string, keyPrefix: string): StateBackend => {
    const { settings } = resolveTeamSettings({ backend: "redis", url, keyPrefix, machine: name }, {});
    const backend = openStateBackend({
      settings,
      stateDir: dir,
      onWarning: (w) => warnings.push(w.message),
      warn: (text) => warnings.push(text),
    });
    backends.push(backend);
    return backend;
  };

  const machine = (name: string, url = redis.url, keyPrefix = "par:test:"): { backend: StateBackend; dir: string } => {
    const dir = freshDir(`auto-router-team-${name}`);
    dirs.push(dir);
    return { backend: backendOf(name, dir, url, keyPrefix), dir };
  };

  /** Machine `name` started again: a new process on its state dir, with the tally store open. */
  const restarted = (name: string, dir: string, keyPrefix: string) => {
    const backend = backendOf(name, dir, redis.url, keyPrefix);
    return { backend, store: backend.open("tally", defaults, parse) };
  };

  /** Redis restarted with its data (the test's server keeps none): its epoch and the team's tally as they were. */
  const restartWithData = async (keyPrefix: string, epoch: string, version: number, state: Tally) => {
    await redis.restart();
    redis.cli("SET", `${keyPrefix}epoch`, epoch);
    redis.cli("HSET", `${keyPrefix}state:tally`, "v", String(version), "json", JSON.stringify(state));
  };

  before(async () => {
    redis = await startRedisServer({ password: "team-secret" });
  });
  after(async () => {
    await Promise.allSettled(backends.map((backend) => backend.close()));
    await redis.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("adds up concurrent writes of two machines exactly (compare-and-set replays each batch on fresh state)", async () => {
    const a = machine("a");
    const b = machine("b");
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    const storeA = a.backend.open("tally", defaults, parse);
    const storeB = b.backend.open("tally", defaults, parse);
    for (let i = 0; i < 50; i++) {
      storeA.update(addOne);
      storeB.update(addOne);
      if (i % 7 === 0) await Promise.all([storeA.flush(), storeB.flush()]);
    }
    await Promise.all([storeA.flush(), storeB.flush()]);
    const json = redis.cli("HGET", "par:test:state:tally", "json");
    assert.equal(JSON.parse(json).count, 100);
    await eventually(() => storeA.read().count === 100 && storeB.read().count === 100, "both machines see 100");
  });

  it("keeps a team value that does not read aside under its own key and what can be read of it, as the file store does", async () => {
    // Before, the value was replaced by the defaults at the next write: the whole team state lost, nothing kept.
    const prefix = "par:damaged:";
    const key = `${prefix}state:tally`;
    const damaged = JSON.stringify({ count: "many", names: ["kept-name"] });
    redis.cli("HSET", key, "v", "3", "json", damaged);
    const salvage = (raw: unknown): Tally => ({
      count: 0,
      names: ((raw as Tally).names ?? []).filter((name) => typeof name === "string"),
    });
    const a = machine("damaged-a", redis.url, prefix);
    await a.backend.ready();
    const store = a.backend.open("tally", defaults, parse, salvage);
    await eventually(() => store.read().names.includes("kept-name"), "the salvaged names");
    const said = () => warnings.filter((text) => text.includes(`team store key ${key} holds invalid state`));
    await eventually(() => said().length === 1, "the warning");
    assert.match(
      said()[0]!,
      new RegExp(
        `^auto-router: team store key ${key} holds invalid state \\(count must be a number\\); the value kept as (${key}:corrupt-\\S+) for 30 days; kept every value that could be read$`,
      ),
    );
    const aside = / kept as (\S+) for/.exec(said()[0]!)![1]!;
    assert.equal(redis.cli("GET", aside).trim(), damaged, "the value as it was");
    const ttl = Number(redis.cli("TTL", aside).trim());
    assert.ok(ttl > 29 * 86_400 && ttl <= 30 * 86_400, `kept 30 days: ${ttl}`);
    // The next write starts from what was kept; the warning is not repeated by later reads.
    store.update(addOne);
    await store.flush();
    assert.deepEqual(JSON.parse(redis.cli("HGET", key, "json")), { count: 1, names: ["kept-name"] });
    assert.equal(said().length, 1);

    // Without a salvage, a value that is no JSON at all: the team state this machine last read stands.
    redis.cli("HSET", key, "v", "9", "json", "{not json");
    const other = machine("damaged-b", redis.url, prefix);
    await other.backend.ready();
    const noSalvage = other.backend.open("tally", defaults, parse);
    // Each machine says so once: the new one starts from the defaults, the first keeps what it last read (on its next
    // read, whichever comes first).
    await eventually(() => said().length === 3, "both machines' warnings");
    const [fromDefaults, fromLastRead] = [
      /; started it from defaults$/,
      /; kept the team state this machine last read$/,
    ].map((ending) => said().filter((text) => ending.test(text)));
    assert.equal(fromDefaults!.length, 1, said().join("\n"));
    assert.equal(fromLastRead!.length, 1, said().join("\n"));
    assert.match(fromDefaults![0]!, /holds invalid state \(.*JSON.*\); the value kept as \S+ for 30 days;/);
    assert.deepEqual(noSalvage.read(), defaults());
    assert.equal(store.read().count, 1, "machine a keeps its last team state");
  });

  it("writes over a version that is no whole number, past any version a machine holds, and says so once", async () => {
    // Before, every write compared its version with the unreadable one and conflicted: none landed, nothing was said.
    const prefix = "par:badv:";
    const key = `${prefix}state:tally`;
    const a = machine("badv-a", redis.url, prefix);
    await a.backend.ready();
    const storeA = a.backend.open("tally", defaults, parse);
    storeA.update(addOne);
    await storeA.flush();
    assert.equal(redis.cli("HGET", key, "v"), "1");
    redis.cli("HSET", key, "v", "one");
    const b = machine("badv-b", redis.url, prefix);
    await b.backend.ready();
    const storeB = b.backend.open("tally", defaults, parse);
    const said = () => warnings.filter((text) => text.includes(`team store key ${key} holds version`));
    await eventually(() => storeB.read().count === 1, "machine b reads the team's tally");
    storeB.update(addOne);
    await storeB.flush();
    assert.equal(b.backend.describe(Date.now()).pendingWrites, 0, "the write landed");
    assert.equal(JSON.parse(redis.cli("HGET", key, "json")).count, 2);
    const version = Number(redis.cli("HGET", key, "v"));
    assert.ok(Number.isSafeInteger(version) && version > 1_000_000_000_000, `a version past any held: ${version}`);
    // Machine a held version 1 and reads the new one (a version 1 again would have looked unchanged to it).
    await eventually(() => storeA.read().count === 2, "machine a sees machine b's write");
    // Said by machine b, and by machine a too when its 5 s re-check read it before b's write: once each at most.
    const expected = `auto-router: team store key ${key} holds version "one", not a whole number: read as 0 (the next write replaces it)`;
    assert.ok(said().length >= 1 && said().length <= 2, said().join("\n"));
    for (const text of said()) assert.equal(text, expected);
  });

  it("keeps aside a team value's key that holds another kind of value, and shares the state again", async () => {
    // Before, every read and write of it failed with WRONGTYPE, silently: the machines never shared that state again.
    const prefix = "par:wrongtype:";
    const key = `${prefix}state:tally`;
    const a = machine("wrongtype-a", redis.url, prefix);
    const b = machine("wrongtype-b", redis.url, prefix);
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    const storeA = a.backend.open("tally", defaults, parse);
    const storeB = b.backend.open("tally", defaults, parse);
    storeA.update(addOne);
    await storeA.flush();
    await eventually(() => storeB.read().count === 1, "machine b reads the tally");
    redis.cli("DEL", key);
    redis.cli("SET", key, "junk");
    // Machine a's next write meets it: the key goes aside, holding the state a last read, and the write lands on it.
    storeA.update(addOne);
    await storeA.flush();
    const said = () => warnings.filter((text) => text.startsWith(`auto-router: team store key ${key} holds a Redis`));
    assert.equal(said().length, 1, warnings.join("\n"));
    const aside = / kept as (\S+) for 30 days/.exec(said()[0]!)?.[1];
    assert.match(
      said()[0]!,
      /holds a Redis string where its hash \{v, json\} belongs; the value kept as \S+ for 30 days; replaced by the team state this machine last read$/,
    );
    assert.equal(redis.cli("GET", aside!), "junk", "the value as it was");
    assert.equal(JSON.parse(redis.cli("HGET", key, "json")).count, 2);
    assert.equal(a.backend.describe(Date.now()).pendingWrites, 0);
    // Machine b held version 1 and reads the new state (its version is past any held).
    await eventually(() => storeB.read().count === 2, "machine b reads machine a's write");
    assert.equal(said().length, 1, "said by the machine that moved it alone");
  });

  it("shows another machine's write through pub/sub without a local write", async () => {
    const a = machine("a2", redis.url, "par:notify:");
    const b = machine("b2", redis.url, "par:notify:");
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    const storeA = a.backend.open("flags", defaults, parse);
    const storeB = b.backend.open("flags", defaults, parse);
    storeA.update((state) => ({ ...state, names: [...state.names, "set-by-a"] }));
    await storeA.flush();
    await eventually(() => storeB.read().names.includes("set-by-a"), "machine b sees machine a's write");
  });

  it("applies a write batch once even when it is sent twice (a retry after a lost reply)", async () => {
    const script = (batch: string, version: number, count: number) =>
      redis
        .cli(
          "EVAL",
          COMPARE_AND_SET_LUA,
          "2",
          "par:dup:state:x",
          `par:dup:batch:${batch}`,
          String(version),
          JSON.stringify({ count, names: [] }),
          "60",
          "par:dup:changed",
          "x:test",
        )
        .split("\n")[0];
    assert.equal(script("one", 0, 1), "ok");
    assert.equal(script("one", 1, 2), "dup");
    const a = machine("dup", redis.url, "par:dup2:");
    await a.backend.ready();
    const store = a.backend.open("tally", defaults, parse);
    store.update(addOne);
    await store.flush();
    const markers = redis.cli("KEYS", "par:dup2:batch:*").split("\n").filter(Boolean);
    assert.equal(markers.length, 1);
    assert.equal(JSON.parse(redis.cli("HGET", "par:dup2:state:tally", "json")).count, 1);
  });

  it("keeps writes made while Redis is down, replays them once on reconnect, and re-seeds a Redis that came back empty", async () => {
    const a = machine("fault-a", redis.url, "par:fault:");
    const b = machine("fault-b", redis.url, "par:fault:");
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    const storeA = a.backend.open("tally", defaults, parse);
    const storeB = b.backend.open("tally", defaults, parse);
    for (let i = 0; i < 5; i++) storeA.update(addOne);
    await storeA.flush();
    await eventually(() => storeB.read().count === 5, "machine b sees the first 5");
    await redis.kill();
    await eventually(() => a.backend.describe(Date.now()).connection === "down", "machine a notices");
    for (let i = 0; i < 3; i++) storeA.update(addOne);
    for (let i = 0; i < 4; i++) storeB.update(addOne);
    await storeA.flush();
    assert.equal(storeA.read().count, 8, "routing goes on on the local view");
    const down = a.backend.describe(Date.now());
    assert.equal(down.pendingWrites, 3);
    assert.doesNotMatch(JSON.stringify(down), /team-secret/);
    assert.ok(
      warnings.some((text) => /team store redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 lost/.test(text)),
      warnings.join("\n"),
    );
    await redis.restart(); // empty: it saves nothing
    await eventually(
      () =>
        a.backend.describe(Date.now()).connection === "connected" &&
        b.backend.describe(Date.now()).connection === "connected",
      "both reconnect",
    );
    await Promise.all([storeA.flush(), storeB.flush()]);
    await eventually(
      () =>
        redis.cli("HGET", "par:fault:state:tally", "json") !== "" &&
        JSON.parse(redis.cli("HGET", "par:fault:state:tally", "json")).count === 12,
      "team store holds 5 + 3 + 4",
    );
    await eventually(() => storeA.read().count === 12 && storeB.read().count === 12, "both machines see 12");
    assert.equal(a.backend.describe(Date.now()).pendingWrites, 0);
    assert.equal(b.backend.describe(Date.now()).pendingWrites, 0);
  });

  it("starts on the machine's last view when Redis is unreachable at start, and says so once", async () => {
    const before = warnings.length;
    const a = machine("offline", "redis://127.0.0.1:1/0", "par:offline:");
    // What this machine last saw of the team state, kept beside its own file-store state.
    writeFileSync(join(a.dir, "auto-router.team-tally.json"), JSON.stringify({ count: 7, names: [] }));
    await a.backend.ready();
    const store = a.backend.open("tally", defaults, parse);
    assert.equal(store.read().count, 7);
    store.update(addOne);
    assert.equal(store.read().count, 8);
    const status = a.backend.describe(Date.now());
    assert.equal(status.connection, "down");
    assert.equal(status.pendingWrites, 1);
    assert.equal(warnings.slice(before).filter((text) => text.includes("unreachable")).length, 1);
  });

  it("counts a server that accepts the connection but never answers as down after 2 s, and keeps saying why", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const before = warnings.length;
      const a = machine("silent", `redis://127.0.0.1:${port}/0`, "par:silent:");
      const store = a.backend.open("tally", defaults, parse);
      await a.backend.ready();
      const reason = `no answer from 127.0.0.1:${port} within 2 s: connected, but the server never answered`;
      assert.deepEqual(
        { connection: a.backend.describe(Date.now()).connection, lastError: a.backend.describe(Date.now()).lastError },
        { connection: "down", lastError: reason },
      );
      store.update(addOne);
      assert.equal(store.read().count, 1, "routing goes on on the local view");
      // Three rounds of both connections: each handshake is given up and made anew, the abandoned ones' errors (their
      // ready check fails as the socket closes) neither warn again nor replace the reason.
      await eventually(() => sockets.length >= 6, "the connections are made anew");
      assert.equal(a.backend.describe(Date.now()).lastError, reason);
      assert.deepEqual(
        warnings.slice(before).filter((text) => text.includes(`127.0.0.1:${port}`)),
        [
          `auto-router: team store redis://127.0.0.1:${port}/0 does not answer (${reason}); routing continues on the local view, writes are kept and replayed on reconnect`,
        ],
      );
      await a.backend.close();
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("writes changes a process could not send before it exited at its next start, unless the team state moved on", async () => {
    const prefix = "par:exit:";
    const a = machine("exit-a", redis.url, prefix);
    await a.backend.ready();
    const store = a.backend.open("tally", defaults, parse);
    store.update(addOne);
    await store.flush();
    const epoch = redis.cli("GET", `${prefix}epoch`);
    await redis.kill();
    await eventually(() => a.backend.describe(Date.now()).connection === "down", "machine a notices");
    store.update(addOne);
    await store.flush(); // a write that fails: the connection is down
    store.update(addOne);
    await a.backend.close(); // exits with two changes unwritten
    await restartWithData(prefix, epoch, 1, { count: 1, names: [] });
    const start = () => restarted("exit-a", a.dir, prefix);
    const teamCount = () => JSON.parse(redis.cli("HGET", `${prefix}state:tally`, "json")).count;
    const again = start();
    await again.backend.ready();
    await again.store.flush();
    assert.equal(teamCount(), 3);
    assert.equal(again.store.read().count, 3);
    await again.backend.close(); // the team's tally at version 2

    // A process that started while Redis was down: its changes are made on the view its predecessor left (version 2),
    // and written when the team state is still that version.
    const before = warnings.length;
    await redis.kill();
    const offline = start();
    await offline.backend.ready();
    offline.store.update(addOne);
    await offline.backend.close();
    await restartWithData(prefix, epoch, 2, { count: 3, names: [] });
    const back = start();
    await back.backend.ready();
    await back.store.flush();
    assert.equal(teamCount(), 4);
    assert.equal(back.store.read().count, 4);
    assert.deepEqual(
      warnings.slice(before).filter((text) => text.includes("were not written")),
      [],
    );
    await back.backend.close(); // version 3

    // The same, but another machine wrote meanwhile: the kept changes cannot be replayed onto the team's state; they
    // are dropped, said.
    await redis.kill();
    const offlineAgain = start();
    await offlineAgain.backend.ready();
    offlineAgain.store.update(addOne);
    await offlineAgain.backend.close();
    await restartWithData(prefix, epoch, 7, { count: 50, names: [] });
    const latest = start();
    await latest.backend.ready();
    await latest.store.flush();
    assert.equal(latest.store.read().count, 50);
    assert.equal(teamCount(), 50);
    assert.ok(
      warnings.some((text) =>
        /team store: this machine's tally changes from before its last exit were not written \(another machine changed the team's tally since, so they were dropped\); using the team's tally/.test(
          text,
        ),
      ),
      warnings.join("\n"),
    );
  });

  it("writes a view's changes from before the first sync whole when the team state has not moved (a predecessor's too)", async () => {
    const prefix = "par:first-sync:";
    const a = machine("first-sync", redis.url, prefix);
    await a.backend.ready();
    const store = a.backend.open("tally", defaults, parse);
    store.update(addOne);
    await store.flush();
    await a.backend.close(); // the team's tally at version 1, count 1
    const epoch = redis.cli("GET", `${prefix}epoch`);
    await redis.kill();
    // A process exits with a change unwritten; the next starts while Redis is still down, makes one more, and is up
    // when Redis comes back with its data: both changes reach the team (the predecessor's is in the view file only).
    const open = () => restarted("first-sync", a.dir, prefix);
    const first = open();
    await first.backend.ready();
    first.store.update(addOne);
    await first.backend.close();
    const second = open();
    await second.backend.ready();
    second.store.update(addOne);
    assert.equal(second.store.read().count, 3);
    await restartWithData(prefix, epoch, 1, { count: 1, names: [] });
    await eventually(() => second.backend.describe(Date.now()).connection === "connected", "the machine reconnects");
    await second.store.flush();
    assert.equal(JSON.parse(redis.cli("HGET", `${prefix}state:tally`, "json")).count, 3);
    assert.equal(second.store.read().count, 3);
    await second.backend.close();
  });

  it("writes its view back when Redis comes back with older state of the same epoch (an older snapshot), and says so", async () => {
    const prefix = "par:rollback:";
    const a = machine("rollback", redis.url, prefix);
    await a.backend.ready();
    const store = a.backend.open("tally", defaults, parse);
    for (let i = 0; i < 3; i++) {
      store.update(addOne);
      await store.flush();
    }
    assert.equal(redis.cli("HGET", `${prefix}state:tally`, "v"), "3");
    const epoch = redis.cli("GET", `${prefix}epoch`);
    const said = () => warnings.filter((text) => text.includes("holds older state than this machine last saw"));
    const before = said().length;
    // While the machine runs: Redis restarts from a snapshot taken at version 1.
    await redis.kill();
    await eventually(() => a.backend.describe(Date.now()).connection === "down", "machine a notices");
    await restartWithData(prefix, epoch, 1, { count: 1, names: [] });
    await eventually(() => redis.cli("HGET", `${prefix}state:tally`, "v") === "2", "the view is written back");
    assert.equal(JSON.parse(redis.cli("HGET", `${prefix}state:tally`, "json")).count, 3);
    assert.equal(store.read().count, 3);
    assert.equal(said().length, before + 1, said().join("\n"));
    assert.match(
      said().at(-1)!,
      /^auto-router: team store redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 holds older state than this machine last saw \(tally at version 1, this machine had 3\): Redis was restored from an older snapshot or lost keys\. This machine's views are written back; spend recorded since that snapshot is missing from the team's ledger\. Run Redis with AOF/,
    );
    assert.doesNotMatch(said().at(-1)!, /team-secret/);
    await a.backend.close(); // the view is at version 2

    // The next process of this machine, after another such restore while none ran.
    await redis.kill();
    await restartWithData(prefix, epoch, 1, { count: 1, names: [] });
    const next = restarted("rollback", a.dir, prefix);
    await next.backend.ready();
    await next.store.flush();
    assert.equal(redis.cli("HGET", `${prefix}state:tally`, "v"), "2");
    assert.equal(JSON.parse(redis.cli("HGET", `${prefix}state:tally`, "json")).count, 3);
    assert.equal(said().length, before + 2, "each process says it once");
  });

  it("says that Redis 7.0 refused a command inside a team script (a user without @keyspace) and the grant, not silently", async () => {
    const prefix = "par:noks:";
    // Every command the store sends itself is granted; its compare-and-set script's EXISTS (@keyspace) is not, which
    // Redis 7.0 refuses as "ERR The user executing the script can't run this command or subcommand script: <sha>...".
    const url = redis.aclUser("noks", "noks-pass-1", prefix, "+@all", "-@keyspace");
    const a = machine("noks", url, prefix);
    await a.backend.ready();
    const store = a.backend.open("tally", defaults, parse);
    store.update(addOne);
    const refused = (text: string) => text.includes("refused a command to this machine's Redis user");
    await eventually(() => warnings.some(refused), "the refusal is warned about");
    const warning = warnings.find(refused)!;
    assert.match(
      warning,
      /\(ERR The user executing the script can't run this command or subcommand\); grant the user the commands, e\.g\. ACL SETUSER noks \+@all$/,
    );
    assert.doesNotMatch(warning, /@user_script|script: [0-9a-f]/);
    assert.match(a.backend.describe(Date.now()).lastError ?? "", /can't run this command or subcommand\); grant/);
  });

  it("says which grant state push needs when Redis refuses the ACL user a command of its script, and pushes once granted", async () => {
    const prefix = "par:pushks:";
    const url = redis.aclUser("pushks", "pushks-pass", prefix, "+@all", "-@keyspace");
    const a = machine("pushks", url, prefix);
    writeFileSync(join(a.dir, "auto-router.tally.json"), JSON.stringify({ count: 7, names: [] }));
    await a.backend.ready();
    a.backend.open("tally", defaults, parse);
    await assert.rejects(a.backend.pushLocal(), (error: Error) => {
      assert.match(
        error.message,
        /^the team store redis:\/\/pushks:\*\*\*@[^ ]+ refused a command to this machine's Redis user \(ERR The user executing the script can't run this command or subcommand\); grant the user the commands, e\.g\. ACL SETUSER pushks \+@all; state push stopped at tally: run it again once the user is granted$/,
      );
      return true;
    });
    redis.cli("ACL", "SETUSER", "pushks", "+@all");
    assert.deepEqual(await a.backend.pushLocal(), [{ name: "tally", result: "pushed" }]);
  });

  it("says on a machine switched back to the file store that the state of its team mode does not count there", async () => {
    const fileBackend = (dir: string) => {
      const { settings } = resolveTeamSettings({ backend: "file", machine: "back" }, {});
      const backend = openStateBackend({ settings, stateDir: dir, onWarning: () => undefined, warn: () => undefined });
      backends.push(backend);
      return describeBackendLines(backend.describe(Date.now()));
    };
    const dir = freshDir("auto-router-team-back");
    dirs.push(dir);
    assert.deepEqual(fileBackend(dir), ["state backend: file store (machine back)"], "a machine never in team mode");
    // What a team-mode run leaves: its view of the team's ledger (and of every other store) beside the file store.
    writeFileSync(join(dir, "auto-router.team-usage.json"), JSON.stringify({ days: {}, months: {} }));
    const lines = fileBackend(dir);
    assert.equal(lines[0], "state backend: file store (machine back)");
    assert.match(
      lines[1] ?? "",
      /^ {2}this machine ran in team mode \(its view of the team store, auto-router\.team-\*\.json, last written \d{4}-\d\d-\d\dT[^)]+\): the file store does not read it, so the spend, limits and cooldowns of team mode do not count here; state\.backend "redis" uses them again$/,
    );
  });

  it("copies this machine's file state into an empty team store once (state push)", async () => {
    const a = machine("pusher", redis.url, "par:push:");
    writeFileSync(join(a.dir, "auto-router.tally.json"), JSON.stringify({ count: 41, names: ["from-file"] }));
    await a.backend.ready();
    const store = a.backend.open("tally", defaults, parse);
    await store.flush();
    assert.equal(store.read().count, 0, "the team store, not the machine's file, is the truth in team mode");
    assert.deepEqual(await a.backend.pushLocal(), [{ name: "tally", result: "pushed" }]);
    assert.equal(store.read().count, 41);
    assert.deepEqual(await a.backend.pushLocal(), [{ name: "tally", result: "team store not empty" }]);
    assert.equal(
      JSON.parse(readFileSync(join(a.dir, "auto-router.tally.json"), "utf8")).count,
      41,
      "the file-store state is left as it was",
    );
  });
});
