// The spend ledger and the hard-budget reservation in team mode, against a real redis-server: two state backends in
// one process stand for two machines (each its own connection, writer id and state dir).
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createConnection, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { spendLedgerOf, type SpendLedger, type SpendReservation } from "../../src/budget/spend-ledger.ts";
import {
  emptyLedger,
  parseLedger,
  providerSpend,
  USAGE_STORE_NAME,
  type UsageLedger,
} from "../../src/budget/usage-ledger.ts";
import type { StateStore } from "../../src/state/json-store.ts";
import { RECORD_USAGE_LUA } from "../../src/team/redis-scripts.ts";
import { STORE_DOWN_REFUSAL } from "../../src/team/redis-ledger.ts";
import { openStateBackend, type StateBackend } from "../../src/team/state-backend.ts";
import { resolveTeamSettings } from "../../src/team/team-settings.ts";
import { startRedisServer, type RedisServer } from "../helpers/redis-server.ts";
import { eventually } from "../helpers/temp-and-workers.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const calendar = { day: "2026-11-29", month: "2026-11" };
const totals = (costUsd: number) => ({
  requests: 1,
  estimated: 0,
  input: 12,
  output: 7,
  cacheRead: 0,
  cacheWrite: 0,
  costUsd,
});

/**
 * A loopback TCP gate in front of Redis: `url` reaches Redis through it while it is open; `close()` cuts the
 * connections through it and refuses new ones (the machine behind it sees Redis down), `open()` lets them in again.
 */
async function gateTo(redisUrl: string): Promise<{ url: string; open(): void; close(): void; stop(): Promise<void> }> {
  const port = Number(new URL(redisUrl).port);
  let open = true;
  const sockets = new Set<Socket>();
  const gate = createServer((socket) => {
    if (!open) return void socket.destroy();
    const upstream = createConnection({ port, host: "127.0.0.1" });
    for (const end of [socket, upstream]) {
      sockets.add(end);
      end.on("error", () => undefined);
      end.on("close", () => {
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => gate.listen(0, "127.0.0.1", resolve));
  const close = () => {
    open = false;
    for (const end of sockets) end.destroy();
  };
  return {
    url: redisUrl.replace(`:${port}`, `:${(gate.address() as AddressInfo).port}`),
    open: () => void (open = true),
    close,
    stop: async () => {
      close();
      await new Promise((resolve) => gate.close(resolve));
    },
  };
}

describe("team ledger on Redis", () => {
  let redis: RedisServer;
  const dirs: string[] = [];
  const backends: StateBackend[] = [];
  const warnings: string[] = [];

  type Machine = { backend: StateBackend; dir: string; usage: StateStore<UsageLedger>; ledger: SpendLedger };
  const machine = (
    name: string,
    keyPrefix: string,
    options: { dir?: string; onStoreDown?: "local" | "block"; warnings?: string[]; url?: string } = {},
  ): Machine => {
    const sink = options.warnings ?? warnings;
    const dir = options.dir ?? freshDir(`auto-router-ledger-${name}`);
    if (!options.dir) dirs.push(dir);
    const { settings } = resolveTeamSettings(
      { backend: "redis", url: options.url ?? redis.url, keyPrefix, machine: name, onStoreDown: options.onStoreDown },
      {},
    );
    const backend = openStateBackend({
      settings,
      stateDir: dir,
      onWarning: (w) => sink.push(w.message),
      warn: (text) => sink.push(text),
    });
    backends.push(backend);
    const usage = backend.open(USAGE_STORE_NAME, emptyLedger, parseLedger);
    return { backend, dir, usage, ledger: spendLedgerOf(usage) };
  };
  const costField = (prefix: string, period: "day" | "month", field: string) =>
    Number(
      redis.cli("HGET", `${prefix}usage:${period}:${period === "day" ? calendar.day : calendar.month}`, field) || "0",
    );
  const reservation = (id: string, amountUsd: number, dailyUsd: number): SpendReservation => ({
    id,
    provider: "mock-a",
    calendar,
    amountUsd,
    dailyUsd,
    ttlMs: 60_000,
    now: Date.now(),
  });

  before(async () => {
    redis = await startRedisServer({ password: "ledger-secret" });
  });
  after(async () => {
    await Promise.allSettled(backends.map((backend) => backend.close()));
    await redis.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("adds up two machines' attempts in a hash per day and month, readable per provider and model with one HGET", async () => {
    const prefix = "par:sum:";
    const [a, b] = [machine("a", prefix), machine("b", prefix)];
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    for (let i = 0; i < 30; i++) {
      a.ledger.record({ id: `ra:${i}`, calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.026) });
      b.ledger.record({
        id: `rb:${i}`,
        calendar,
        provider: "mock-a",
        modelId: i % 2 ? "model-a" : "model-x",
        totals: totals(0.026),
      });
    }
    await Promise.all([a.usage.flush(), b.usage.flush()]);
    assert.ok(Math.abs(costField(prefix, "day", "mock-a|*|costUsd") - 60 * 0.026) < 1e-9);
    assert.equal(costField(prefix, "month", "mock-a|*|requests"), 60);
    assert.equal(costField(prefix, "day", "mock-a|model-x|requests"), 15);
    assert.equal(costField(prefix, "day", "mock-a|model-a|output"), 45 * 7);
    // Each machine's view (the file ledger's format) reaches the team's totals through the change notices.
    for (const m of [a, b]) {
      await eventually(() => providerSpend(m.usage.read(), calendar, "mock-a").day.requests === 60, `${m.dir} sees 60`);
      assert.ok(Math.abs(providerSpend(m.usage.read(), calendar, "mock-a").month.costUsd - 60 * 0.026) < 1e-9);
    }
  });

  it("counts an attempt once when its write is sent twice (the attempt's marker is set in the same script)", () => {
    const prefix = "par:dup:";
    const send = () =>
      redis.cli(
        "EVAL",
        RECORD_USAGE_LUA,
        "5",
        `${prefix}usage:attempt:req-1:1`,
        `${prefix}usage:reserved:mock-a`,
        `${prefix}usage:periods`,
        `${prefix}usage:migrated`,
        `${prefix}usage:day:${calendar.day}`,
        "60",
        "req-1:1",
        JSON.stringify([{ fields: { "mock-a|model-a|costUsd": "0.5", "mock-a|*|costUsd": "0.5" }, ttl: 600 }]),
        `${prefix}changed`,
        "usage:test:1",
        "",
      );
    assert.equal(send(), "1");
    assert.equal(send(), "0");
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.5);
  });

  it("writes nothing of an entry while the ACL user is refused a command of the ledger's script, and counts it whole once granted", async () => {
    const prefix = "par:noks:";
    // The plain commands are granted; the script's EXPIRE and EXISTS (@keyspace) are not. Redis does not undo a
    // script's writes when a later command fails: its day would count and its month not, the marker found set after.
    const url = redis.aclUser("noks", "noks-pass-2", prefix, "+@all", "-@keyspace");
    const sink: string[] = [];
    const m = machine("noks", prefix, {
      url,
      warnings: sink,
    });
    await m.backend.ready();
    m.ledger.record({ id: "noks:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.5) });
    const refused = (text: string) => text.includes("refused a command to this machine's Redis user");
    await eventually(() => sink.some(refused), "the refusal is warned about");
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 0, "nothing of the entry was written");
    assert.equal(redis.cli("KEYS", `${prefix}usage:attempt:*`), "", "its marker was not set");
    // Named as Redis names a refused command (the script stops before its first write).
    assert.match(sink.find(refused)!, /\(NOPERM this user has no permissions to run the 'expire' command\); grant/);
    redis.cli("ACL", "SETUSER", "noks", "+@all");
    // Granted while the process records nothing more: its re-check (every 5 s) sends what Redis refused.
    await eventually(() => costField(prefix, "month", "mock-a|*|requests") === 1, "the entry counts once granted");
    await eventually(() => m.backend.describe(Date.now()).pendingWrites === 0, "no entry waits any more");
    // Granted and written: the status no longer advises the grant.
    assert.equal(m.backend.describe(Date.now()).lastError, undefined);
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 1);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.5);
  });

  it("re-seeds a team store that lost its data once a command its re-seed was refused is granted, each entry once", async () => {
    const prefix = "par:seed-noks:";
    const url = redis.aclUser("seednoks", "sn-pass-4", prefix, "+@all");
    const sink: string[] = [];
    const m = machine("sn", prefix, { url, warnings: sink });
    await m.backend.ready();
    for (const id of ["sn:1", "sn:2"])
      m.ledger.record({ id, calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await m.usage.flush();
    await eventually(() => costField(prefix, "day", "mock-a|*|requests") === 2, "both entries in the team store");
    // Back empty, and its user now lacks EXPIRE and EXISTS (@keyspace): the re-seed of what the machine held is refused.
    await redis.restart();
    redis.aclUser("seednoks", "sn-pass-4", prefix, "+@all", "-@keyspace");
    const refused = (text: string) => text.includes("refused a command to this machine's Redis user");
    // Redis 7.0 words a command refused inside a script its own way (README, Team mode).
    await eventually(() => sink.some(refused), "the re-seed refused");
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the sync's retry a second later
    assert.equal(redis.cli("KEYS", `${prefix}usage:*`), "", "the re-seed wrote nothing");
    assert.equal(
      m.backend.describe(Date.now()).connection,
      "refused",
      `tried again, refused again: ${JSON.stringify(m.backend.describe(Date.now()))} ${sink.join(" / ")}`,
    );
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 0);
    redis.cli("ACL", "SETUSER", "seednoks", "+@all");
    // Tried again every second: once granted, the re-seed goes in whole.
    await eventually(() => m.backend.describe(Date.now()).connection === "connected", "synced once granted");
    await eventually(() => costField(prefix, "month", "mock-a|*|requests") === 2, "the re-seed once granted");
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 2);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.5);
    assert.equal(providerSpend(m.usage.read(), calendar, "mock-a").day.requests, 2, "the machine's view kept both");
  });

  it("merges what a machine held beyond another's re-seed once a command its merge was refused is granted, once", async () => {
    // a (behind a gate) misses b's third entry; Redis comes back empty; a re-seeds with two, and b, whose user now
    // lacks EXPIRE and EXISTS, must add its third on top: refused, then tried again every second until granted.
    const prefix = "par:merge-noks:";
    const gate = await gateTo(redis.url);
    const sink: string[] = [];
    try {
      const a = machine("ma", prefix, { url: gate.url });
      const b = machine("mb", prefix, {
        url: redis.aclUser("mergenoks", "mn-pass-5", prefix, "+@all"),
        warnings: sink,
      });
      await Promise.all([a.backend.ready(), b.backend.ready()]);
      const requests = (m: Machine) => providerSpend(m.usage.read(), calendar, "mock-a").day.requests;
      for (const id of ["mn:1", "mn:2"])
        a.ledger.record({ id, calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
      await a.usage.flush();
      await eventually(() => requests(b) === 2, "b sees a's two entries");
      gate.close();
      await eventually(() => a.backend.describe(Date.now()).connection === "down", "a is cut off");
      b.ledger.record({ id: "mn:3", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
      await b.usage.flush();
      await eventually(() => costField(prefix, "day", "mock-a|*|requests") === 3, "b's entry in the team store");
      await redis.restart();
      redis.aclUser("mergenoks", "mn-pass-5", prefix, "+@all", "-@keyspace");
      gate.open();
      const refused = (text: string) => text.includes("refused a command to this machine's Redis user");
      await eventually(() => sink.some(refused), "b's merge refused");
      await eventually(() => costField(prefix, "day", "mock-a|*|requests") === 2, "a's re-seed");
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // past b's retry a second later
      assert.equal(costField(prefix, "day", "mock-a|*|requests"), 2, "the refused merge added nothing");
      assert.equal(b.backend.describe(Date.now()).connection, "refused", "tried again, refused again");
      redis.cli("ACL", "SETUSER", "mergenoks", "+@all");
      await eventually(() => b.backend.describe(Date.now()).connection === "connected", "b synced once granted");
      await eventually(() => costField(prefix, "month", "mock-a|*|requests") === 3, "b's entry merged once granted");
      assert.equal(costField(prefix, "day", "mock-a|*|requests"), 3);
      assert.ok(Math.abs(costField(prefix, "day", "mock-a|*|costUsd") - 0.75) < 1e-9);
      await a.usage.flush();
      await eventually(() => requests(a) === 3, "a reads the merged ledger");
    } finally {
      await gate.stop();
    }
  });

  it("counts spend on a ledger field that holds no number: that value kept aside, said, and the entry counted whole", async () => {
    const prefix = "par:nan:";
    const sink: string[] = [];
    const a = machine("nan-a", prefix);
    await a.backend.ready();
    a.ledger.record({ id: "nan:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await a.usage.flush();
    // A hand edit (or another tool) leaves words where the day's cost is counted, for the model and the provider.
    const day = `${prefix}usage:day:${calendar.day}`;
    redis.cli("HSET", day, "mock-a|model-a|costUsd", "oops", "mock-a|*|costUsd", "n/a");
    const b = machine("nan-b", prefix, { warnings: sink });
    await b.backend.ready();
    assert.deepEqual(
      sink.filter((text) => text.includes("not a number: read as nothing")).sort(),
      [
        `auto-router: team store: the spend ledger's ${day} field mock-a|*|costUsd holds "n/a", not a number: read as nothing (the next spend counted on it keeps it aside in ${day}:corrupt)`,
        `auto-router: team store: the spend ledger's ${day} field mock-a|model-a|costUsd holds "oops", not a number: read as nothing (the next spend counted on it keeps it aside in ${day}:corrupt)`,
      ].sort(),
      "each unreadable field is named once, with what it holds",
    );
    // A hard budget's check reads the provider's unreadable total as nothing, not as a team store that is down.
    assert.equal(await b.ledger.reserve(reservation("nan:2", 0.25, 1)), undefined);
    b.ledger.record({ id: "nan:2", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await b.usage.flush();
    await eventually(() => b.backend.describe(Date.now()).pendingWrites === 0, "the entry is written");
    // The whole entry counted: the day's readable fields and the month's, the two unreadable ones from this spend on.
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 2);
    assert.equal(costField(prefix, "day", "mock-a|model-a|costUsd"), 0.25);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.25);
    assert.equal(costField(prefix, "month", "mock-a|*|costUsd"), 0.5);
    assert.equal(redis.cli("HGET", `${day}:corrupt`, "mock-a|model-a|costUsd"), "oops", "what it held is kept");
    assert.equal(redis.cli("HGET", `${day}:corrupt`, "mock-a|*|costUsd"), "n/a");
    assert.ok(Number(redis.cli("TTL", `${day}:corrupt`)) > 0, "kept as long as its day");
    const kept = sink.filter((text) => text.includes("kept aside in"));
    assert.equal(kept.length, 1, sink.join("\n"));
    assert.match(kept[0]!, /field mock-a\|model-a\|costUsd held "oops", not a number, and is kept aside in /);
    assert.match(kept[0]!, /they count again from this spend on, and what they held before is not counted$/);
    await eventually(
      () => providerSpend(a.usage.read(), calendar, "mock-a").month.requests === 2,
      "the other machine reads the entry",
    );
    assert.equal(providerSpend(a.usage.read(), calendar, "mock-a").day.costUsd, 0.25);
  });

  it("reads a ledger field out of any real range as none, keeps it aside at the next spend, and a hard budget ignores it", async () => {
    const prefix = "par:huge:";
    const sink: string[] = [];
    const a = machine("huge-a", prefix);
    await a.backend.ready();
    a.ledger.record({ id: "huge:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await a.usage.flush();
    // Hand edits of the right type that no real ledger reaches: read as written, the spend would block a hard budget
    // for good, and sums of such values reach Infinity.
    const day = `${prefix}usage:day:${calendar.day}`;
    redis.cli(
      "HSET",
      day,
      "mock-a|model-a|costUsd",
      "9e15",
      "mock-a|*|costUsd",
      "9e15",
      "mock-a|model-a|requests",
      "-3",
    );
    const b = machine("huge-b", prefix, { warnings: sink });
    await b.backend.ready();
    const range = "out of range (expected a number from 0 to 1000000000000000): read as nothing";
    assert.deepEqual(
      sink.filter((text) => text.includes(range)).sort(),
      [
        `auto-router: team store: the spend ledger's ${day} field mock-a|*|costUsd holds "9e15", ${range} (the next spend counted on it keeps it aside in ${day}:corrupt)`,
        `auto-router: team store: the spend ledger's ${day} field mock-a|model-a|costUsd holds "9e15", ${range} (the next spend counted on it keeps it aside in ${day}:corrupt)`,
        `auto-router: team store: the spend ledger's ${day} field mock-a|model-a|requests holds "-3", ${range} (the next spend counted on it keeps it aside in ${day}:corrupt)`,
      ].sort(),
    );
    assert.equal(providerSpend(b.usage.read(), calendar, "mock-a").day.costUsd, 0, "the view reads the field as none");
    // The hard budget's check (RESERVE_LUA reads the provider's total field) reads it as nothing too.
    assert.equal(await b.ledger.reserve(reservation("huge:2", 0.25, 1)), undefined);
    b.ledger.record({ id: "huge:2", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await b.usage.flush();
    await eventually(() => b.backend.describe(Date.now()).pendingWrites === 0, "the entry is written");
    assert.equal(costField(prefix, "day", "mock-a|model-a|costUsd"), 0.25);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.25);
    assert.equal(costField(prefix, "day", "mock-a|model-a|requests"), 1);
    assert.equal(costField(prefix, "month", "mock-a|*|costUsd"), 0.5, "the month's fields were in range");
    assert.equal(Number(redis.cli("HGET", `${day}:corrupt`, "mock-a|model-a|costUsd")), 9e15, "what it held is kept");
    assert.equal(Number(redis.cli("HGET", `${day}:corrupt`, "mock-a|*|costUsd")), 9e15);
    assert.equal(Number(redis.cli("HGET", `${day}:corrupt`, "mock-a|model-a|requests")), -3);
    const kept = sink.filter((text) => text.includes("kept aside in"));
    assert.equal(kept.length, 1, sink.join("\n"));
    assert.match(kept[0]!, /field mock-a\|model-a\|costUsd held "9e\+15", out of range \(expected a number from 0 to /);
    await eventually(
      () => providerSpend(a.usage.read(), calendar, "mock-a").day.costUsd === 0.25,
      "the other machine reads the day's spend again",
    );
  });

  it("drops an open reservation whose amount is out of any real range instead of blocking its provider", async () => {
    const prefix = "par:hugeres:";
    const m = machine("hugeres", prefix);
    await m.backend.ready();
    redis.cli("HSET", `${prefix}usage:reserved:mock-a`, "hand-edit", "9e15@99999999999999");
    assert.equal(await m.ledger.reserve(reservation("hugeres:1", 0.25, 1)), undefined);
    assert.equal(redis.cli("HEXISTS", `${prefix}usage:reserved:mock-a`, "hand-edit"), "0");
  });

  it("leaves out a name in the set of periods that is another kind of key, says so, and reads the rest", async () => {
    // Before, the read of every period failed on it (WRONGTYPE), silently: the machine never saw the team's spend.
    const prefix = "par:junk:";
    const a = machine("junk-a", prefix);
    await a.backend.ready();
    a.ledger.record({ id: "junk:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await a.usage.flush();
    redis.cli("SET", `${prefix}usage:day:2026-11-28`, "not a hash");
    redis.cli("SADD", `${prefix}usage:periods`, `${prefix}usage:day:2026-11-28`, `${prefix}epoch`);
    const sink: string[] = [];
    const b = machine("junk-b", prefix, { warnings: sink });
    await b.backend.ready();
    assert.equal(providerSpend(b.usage.read(), calendar, "mock-a").day.requests, 1, "the team's spend is read");
    a.ledger.record({ id: "junk:2", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await a.usage.flush();
    // Its re-check (a change notice, else every 5 s) reads the newest periods, the junk names left out.
    await eventually(() => providerSpend(b.usage.read(), calendar, "mock-a").day.requests === 2, "b reads a's 2nd");
    assert.deepEqual(
      sink.filter((text) => text.includes("which is no hash")).sort(),
      [`${prefix}epoch`, `${prefix}usage:day:2026-11-28`].map(
        (name) =>
          `auto-router: team store: the spend ledger's set of periods ${prefix}usage:periods names ${name}, which is no hash: left out of the team's spend`,
      ),
    );
  });

  it("keeps aside a period's key that holds another kind of value, and counts the entry whole in a new one", async () => {
    // Before, the record script failed on it after setting the attempt's marker: the entry never counted, and a hard
    // budget's check failed too, read as a team store that is down.
    const prefix = "par:periodtype:";
    const sink: string[] = [];
    const m = machine("periodtype", prefix, { warnings: sink });
    await m.backend.ready();
    const day = `${prefix}usage:day:${calendar.day}`;
    redis.cli("SET", day, "junk");
    assert.equal(await m.ledger.reserve(reservation("pt:1", 0.25, 1)), undefined, "checked, not refused as down");
    m.ledger.record({ id: "pt:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await m.usage.flush();
    await eventually(() => m.backend.describe(Date.now()).pendingWrites === 0, "the entry is written");
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 1);
    assert.equal(costField(prefix, "month", "mock-a|*|costUsd"), 0.25);
    assert.equal(redis.cli("GET", `${day}:corrupt-string`), "junk", "the value as it was");
    assert.ok(
      sink.includes(
        `auto-router: team store: the spend ledger's ${day} was a Redis string, not a hash, and is kept aside as ${day}:corrupt-string: it counts again from this spend on, and what it held before is not counted`,
      ),
      sink.join("\n"),
    );
  });

  it("drops an open reservation that holds no amount instead of failing every check of its provider", async () => {
    const prefix = "par:badres:";
    const m = machine("badres", prefix);
    await m.backend.ready();
    redis.cli("HSET", `${prefix}usage:reserved:mock-a`, "hand-edit", "lots@99999999999999");
    assert.equal(await m.ledger.reserve(reservation("badres:1", 0.25, 1)), undefined);
    assert.equal(redis.cli("HEXISTS", `${prefix}usage:reserved:mock-a`, "hand-edit"), "0");
  });

  it("forgets expired period hashes from the set the machines read, and keeps them out of the view", async () => {
    const prefix = "par:expired:";
    const a = machine("ea", prefix);
    await a.backend.ready();
    a.ledger.record({ id: "live:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.026) });
    await a.usage.flush();
    // Names of hashes Redis expired (a day after 69 days, a month after about two years) stay in the set.
    const stale = ["day:2025-01-01", "day:2025-01-02", "day:2025-02-03", "month:2024-01"].map(
      (name) => `${prefix}usage:${name}`,
    );
    redis.cli("SADD", `${prefix}usage:periods`, ...stale);
    const b = machine("eb", prefix);
    await b.backend.ready();
    await eventually(() => providerSpend(b.usage.read(), calendar, "mock-a").day.requests === 1, "b sees the spend");
    const view = b.usage.read();
    assert.deepEqual(Object.keys(view.days), [calendar.day]);
    assert.deepEqual(Object.keys(view.months), [calendar.month]);
    assert.deepEqual(redis.cli("SMEMBERS", `${prefix}usage:periods`).trim().split("\n").sort(), [
      `${prefix}usage:day:${calendar.day}`,
      `${prefix}usage:month:${calendar.month}`,
    ]);
  });

  it("keeps a connected machine's view to the newest 62 days while new days arrive, as the file ledger does", async () => {
    const prefix = "par:longrun:";
    const a = machine("la", prefix);
    await a.backend.ready();
    // Another machine's spend on 89 days before today, each day arriving as a change notice (one per new day).
    const day = 24 * 3_600_000;
    const days = Array.from({ length: 89 }, (_, index) =>
      new Date(Date.parse(`${calendar.day}T12:00:00Z`) - (89 - index) * day).toISOString().slice(0, 10),
    );
    const addDays = `for i = 2, #KEYS do
      redis.call('HSET', KEYS[i], 'mock-a|model-a|requests', '1', 'mock-a|*|requests', '1')
      redis.call('EXPIRE', KEYS[i], 600)
      redis.call('SADD', KEYS[1], KEYS[i])
      redis.call('PUBLISH', ARGV[1], 'usage:other:' .. i)
    end`;
    const hashes = days.map((key) => `${prefix}usage:day:${key}`);
    redis.cli("EVAL", addDays, String(hashes.length + 1), `${prefix}usage:periods`, ...hashes, `${prefix}changed`);
    await eventually(() => days.at(-1)! in a.usage.read().days, "a reads the other machine's days");
    a.ledger.record({ id: "today:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.026) });
    await a.usage.flush();
    await eventually(() => providerSpend(a.usage.read(), calendar, "mock-a").day.requests === 1, "a sees today");
    const kept = Object.keys(a.usage.read().days).sort();
    assert.equal(kept.length, 62, kept.join(" "));
    assert.equal(kept.at(-1), calendar.day);
    assert.equal(kept[0], days.at(-61));
    // A change notice then reads the newest day and month, not again the days the view no longer keeps.
    const hgetalls = () => Number(/cmdstat_hgetall:calls=(\d+)/.exec(redis.cli("INFO", "commandstats"))?.[1] ?? 0);
    const before = hgetalls();
    a.ledger.record({ id: "today:2", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.026) });
    await a.usage.flush();
    redis.cli("PUBLISH", `${prefix}changed`, "usage:other:0");
    await eventually(() => hgetalls() - before >= 2, "a reads after the notice");
    await new Promise((resolve) => setTimeout(resolve, 200));
    // 2 per read: the notice's, and the 5 s re-check's, which a loaded machine can run more than once in this window
    // (6 seen at load ~6). Reading the 27 days the view dropped again would be 29 or more.
    assert.ok(hgetalls() - before <= 10, `${hgetalls() - before} hashes read`);
  });

  it("forgets expired period hashes from the set with the first entry of a new day, with no process reading them all", () => {
    const prefix = "par:newday:";
    const periods = `${prefix}usage:periods`;
    redis.cli("SADD", periods, `${prefix}usage:day:2026-08-01`, `${prefix}usage:month:2024-06`);
    redis.cli("HSET", `${prefix}usage:day:2026-11-28`, "mock-a|*|requests", "1");
    redis.cli("SADD", periods, `${prefix}usage:day:2026-11-28`);
    const record = (day: string) =>
      redis.cli(
        "EVAL",
        RECORD_USAGE_LUA,
        "5",
        `${prefix}usage:attempt:${day}:1`,
        `${prefix}usage:reserved:mock-a`,
        periods,
        `${prefix}usage:migrated`,
        `${prefix}usage:day:${day}`,
        "60",
        "",
        JSON.stringify([{ fields: { "mock-a|model-a|requests": "1", "mock-a|*|requests": "1" }, ttl: 600 }]),
        `${prefix}changed`,
        "usage:test:1",
        "",
      );
    assert.equal(record(calendar.day), "1");
    assert.deepEqual(redis.cli("SMEMBERS", periods).trim().split("\n").sort(), [
      `${prefix}usage:day:2026-11-28`,
      `${prefix}usage:day:${calendar.day}`,
    ]);
  });

  it("lets exactly one of two machines reserve the one request a hard budget still fits, and frees it when the usage is recorded", async () => {
    const prefix = "par:reserve:";
    const [a, b] = [machine("ra", prefix), machine("rb", prefix)];
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    a.ledger.record({ id: "earlier:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.5) });
    await a.usage.flush();
    // $0.50 spent of $1.00: one more $0.40 request fits, two do not.
    const answers = await Promise.all([
      a.ledger.reserve(reservation("ra:1", 0.4, 1)),
      b.ledger.reserve(reservation("rb:1", 0.4, 1)),
    ]);
    assert.equal(answers.filter((answer) => answer === undefined).length, 1, JSON.stringify(answers));
    const refused = answers.find((answer) => answer !== undefined)!;
    assert.equal(refused.spendUnknown, undefined, "an exceeded limit, not an unknown spend");
    assert.match(
      refused.reason,
      /hard daily budget: spent \$0\.50 \+ in flight \$0\.40 \+ this request ~\$0\.40 exceeds \$1\.00/,
    );
    const winner = answers[0] === undefined ? a : b;
    const winnerId = answers[0] === undefined ? "ra:1" : "rb:1";
    assert.equal(
      await winner.ledger.reserve(reservation(winnerId, 0.4, 1)),
      undefined,
      "asking again for the same attempt keeps the reservation",
    );
    assert.equal(redis.cli("HLEN", `${prefix}usage:reserved:mock-a`), "1");
    // The request turned out cheaper than expected: the recorded cost replaces the reservation.
    winner.ledger.record({ id: winnerId, calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.1) });
    await winner.usage.flush();
    assert.equal(redis.cli("HLEN", `${prefix}usage:reserved:mock-a`), "0");
    assert.equal(
      await a.ledger.reserve(reservation("ra:2", 0.4, 1)),
      undefined,
      "$0.60 spent, nothing in flight: $0.40 fits again",
    );
    a.ledger.release("ra:2", "mock-a"); // failed before any token: nothing counted, the reservation ends
    await eventually(
      () => redis.cli("HLEN", `${prefix}usage:reserved:mock-a`) === "0",
      "the released reservation is gone",
    );
    assert.ok(Math.abs(costField(prefix, "day", "mock-a|*|costUsd") - 0.6) < 1e-9);
  });

  it("drops a reservation whose attempt never reported once it expires", async () => {
    const prefix = "par:expire:";
    const a = machine("ea", prefix);
    await a.backend.ready();
    assert.equal(await a.ledger.reserve({ ...reservation("crashed:1", 0.8, 1), ttlMs: 200 }), undefined);
    assert.notEqual(
      await a.ledger.reserve(reservation("next:1", 0.8, 1)),
      undefined,
      "held while the first is in flight",
    );
    let granted = false;
    for (let attempt = 0; attempt < 100 && !granted; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      granted = (await a.ledger.reserve(reservation(`next:${attempt + 2}`, 0.8, 1))) === undefined;
    }
    assert.ok(granted, "granted after the crashed attempt's reservation expired");
  });

  it("renews an open reservation by the server's clock while its attempt runs; an ended one is not opened again", async () => {
    const prefix = "par:renew:";
    const [a, b] = [machine("na", prefix), machine("nb", prefix)];
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    const hash = `${prefix}usage:reserved:mock-a`;
    const serverNow = () => {
      const [seconds, micros] = redis.cli("TIME").trim().split("\n").map(Number);
      return seconds! * 1000 + Math.floor(micros! / 1000);
    };
    assert.equal(await a.ledger.reserve({ ...reservation("long:1", 0.8, 1), ttlMs: 5_000 }), undefined);
    const before = serverNow();
    await a.ledger.renew({ id: "long:1", provider: "mock-a", ttlMs: 600_000, now: Date.now() });
    const [amount, expires] = redis.cli("HGET", hash, "long:1").trim().split("@");
    assert.equal(amount, "0.8");
    assert.ok(Number(expires) >= before + 600_000, `${Number(expires) - before}`);
    assert.ok(Number(redis.cli("PTTL", hash)) > 5_000, "the hash lives as long as its renewed entry");
    assert.match((await b.ledger.reserve(reservation("nb:1", 0.4, 1)))?.reason ?? "", /in flight \$0\.80 /);

    a.ledger.release("long:1", "mock-a");
    await eventually(() => redis.cli("HLEN", hash) === "0", "the released reservation is gone");
    await a.ledger.renew({ id: "long:1", provider: "mock-a", ttlMs: 600_000, now: Date.now() });
    assert.equal(redis.cli("HLEN", hash), "0", "an ended reservation is not opened again");
    assert.equal(await b.ledger.reserve(reservation("nb:2", 0.4, 1)), undefined);
  });

  it("keeps entries written while Redis is down in the pending file; the next start writes them once", async () => {
    const prefix = "par:pending:";
    const a = machine("pa", prefix, { onStoreDown: "block" });
    await a.backend.ready();
    a.ledger.record({ id: "before:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await a.usage.flush();
    await redis.kill();
    await eventually(() => a.backend.describe(Date.now()).connection === "down", "machine a notices");
    assert.deepEqual(
      await a.ledger.reserve(reservation("down:1", 0.1, 10)),
      { reason: STORE_DOWN_REFUSAL, spendUnknown: true },
      "a hard budget fails closed while the team store is down",
    );
    a.ledger.record({ id: "down:2", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    a.ledger.record({ id: "down:3", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    assert.equal(
      providerSpend(a.usage.read(), calendar, "mock-a").day.requests,
      3,
      "routing goes on on the local view",
    );
    await a.backend.close(); // the process exits while Redis is down
    const pendingFile = join(a.dir, "auto-router.team-usage-pending.json");
    assert.equal(JSON.parse(readFileSync(pendingFile, "utf8")).entries.length, 2);
    await redis.restart();
    // Redis came back empty (it saves nothing); the next start of this machine remembers the epoch its view was
    // synced with, so it re-seeds the ledger with its view: the entry from before the loss and the two it kept, once.
    const again = machine("pa", prefix, { dir: a.dir });
    await again.backend.ready();
    await again.usage.flush();
    await eventually(() => costField(prefix, "day", "mock-a|*|requests") === 3, "the view with the kept entries");
    assert.ok(Math.abs(costField(prefix, "day", "mock-a|*|costUsd") - 0.75) < 1e-9);
    await again.backend.close();
    assert.equal(JSON.parse(readFileSync(pendingFile, "utf8")).entries.length, 0);
    // A start that replays the same entries again (a crash between writing them and clearing the file) adds nothing.
    writeFileSync(
      pendingFile,
      JSON.stringify({
        entries: [
          {
            id: "attempt:down:2",
            at: 1,
            reservationProvider: "mock-a",
            changes: [
              { period: "days", key: calendar.day, provider: "mock-a", modelId: "model-a", totals: totals(0.25) },
            ],
            migrated: [],
          },
        ],
      }),
    );
    const third = machine("pa", prefix, { dir: a.dir });
    await third.backend.ready();
    await third.usage.flush();
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 3);
    await third.backend.close();
    assert.equal(JSON.parse(readFileSync(pendingFile, "utf8")).entries.length, 0);
  });

  it("keeps a newer version's fields in the mirror file: its own at the top, and a metric it counts in the hashes", async () => {
    const prefix = "par:newer:";
    const first = machine("na", prefix);
    await first.backend.ready();
    first.ledger.record({ id: "newer:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await first.usage.flush();
    await first.backend.close();
    // A newer version counts a metric of its own in the same hash, and keeps a field of its own in the mirror file.
    redis.cli("HINCRBYFLOAT", `${prefix}usage:day:${calendar.day}`, "mock-a|model-a|reasoning", "40");
    const dir = freshDir("auto-router-ledger-nb");
    dirs.push(dir);
    const mirror = join(dir, "auto-router.team-usage.json");
    writeFileSync(mirror, JSON.stringify({ ...emptyLedger(), newerMarks: ["n-7"] }));
    const b = machine("nb", prefix, { dir });
    await b.backend.ready();
    b.ledger.record({ id: "newer:2", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await b.usage.flush();
    await eventually(() => providerSpend(b.usage.read(), calendar, "mock-a").day.requests === 2, "b sees both");
    await b.backend.close();
    const written = JSON.parse(readFileSync(mirror, "utf8"));
    assert.deepEqual(written.newerMarks, ["n-7"]);
    assert.equal(written.days[calendar.day]["mock-a"]["model-a"].reasoning, 40);
    assert.equal(written.days[calendar.day]["mock-a"]["model-a"].requests, 2);
  });

  it("reaches the team store through a URL in one pair of quotes, as docker run --env-file hands it on", async () => {
    const prefix = "par:quoted:";
    const quoted = machine("q", prefix, { url: `"${redis.url}"` });
    await quoted.backend.ready();
    assert.equal(quoted.backend.describe(Date.now()).connection, "connected");
    quoted.ledger.record({ id: "q:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    await quoted.usage.flush();
    await eventually(() => costField(prefix, "day", "mock-a|*|requests") === 1, "the spend in Redis");
  });

  it("two processes on one state dir: one re-seeds with the entries they share, the other, back later, adds none of them again", async () => {
    // b reaches Redis through a gate, closed from the loss until a has re-seeded the team store with every pending
    // entry and emptied the shared pending file, and b's store has read that file again: b's view still holds the
    // entries it saw pending, which its queue no longer lists. Before, b's merge took them for spend of its own view
    // beyond a's seed and added them a second time.
    const prefix = "par:gated:";
    const gate = await gateTo(redis.url);
    try {
      const a = machine("ga", prefix);
      const b = machine("gb", prefix, { dir: a.dir, url: gate.url });
      await Promise.all([a.backend.ready(), b.backend.ready()]);
      const record = (m: Machine, id: string) =>
        m.ledger.record({ id, calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
      const requests = (m: Machine) => providerSpend(m.usage.read(), calendar, "mock-a").day.requests;
      record(a, "pre:a");
      record(b, "pre:b");
      await Promise.all([a.usage.flush(), b.usage.flush()]);
      for (const m of [a, b]) await eventually(() => requests(m) === 2, "both see 2");
      gate.close();
      await redis.kill();
      for (const m of [a, b])
        await eventually(() => m.backend.describe(Date.now()).connection === "down", `${m.dir} notices`);
      for (const id of ["a:1", "a:2", "a:3"]) record(a, id);
      await new Promise((resolve) => setTimeout(resolve, 2_500)); // past the stores' 2 s refresh of other writers
      record(b, "b:1");
      await eventually(() => requests(b) === 6, "b's view holds a's pending entries and its own");
      await redis.restart();
      const pendingFile = join(a.dir, "auto-router.team-usage-pending.json");
      await eventually(() => a.backend.describe(Date.now()).connection === "connected", "a reconnects");
      // a sends what the shared pending file lists (b's entry too, once a's store has read it).
      await eventually(async () => {
        await a.usage.flush();
        try {
          return JSON.parse(readFileSync(pendingFile, "utf8")).entries.length === 0;
        } catch {
          return false;
        }
      }, "a sent every pending entry");
      await eventually(() => costField(prefix, "day", "mock-a|*|requests") === 6, "a's re-seed and sends");
      await new Promise((resolve) => setTimeout(resolve, 2_500)); // b's store reads the emptied pending file
      assert.equal(b.backend.describe(Date.now()).connection, "down", "b has not reached Redis yet");
      gate.open();
      await eventually(() => b.backend.describe(Date.now()).connection === "connected", "b reconnects");
      await b.usage.flush();
      await eventually(() => requests(b) === 6, "b's view is the team's");
      assert.equal(costField(prefix, "day", "mock-a|*|requests"), 6, "each entry once");
      assert.ok(Math.abs(costField(prefix, "day", "mock-a|*|costUsd") - 1.5) < 1e-9);
    } finally {
      await gate.stop();
    }
  });

  it("two processes on one state dir (pi and the gateway): Redis back empty, every entry of both counted once", async () => {
    const prefix = "par:shared:";
    const told: string[] = [];
    const a = machine("sa", prefix, { warnings: told });
    const b = machine("sb", prefix, { dir: a.dir, warnings: told });
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    const record = (m: Machine, id: string) =>
      m.ledger.record({ id, calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.25) });
    record(a, "pre:a");
    record(b, "pre:b");
    await Promise.all([a.usage.flush(), b.usage.flush()]);
    for (const m of [a, b])
      await eventually(() => providerSpend(m.usage.read(), calendar, "mock-a").day.requests === 2, "both see 2");
    await redis.kill();
    for (const m of [a, b])
      await eventually(() => m.backend.describe(Date.now()).connection === "down", `${m.dir} notices`);
    const pendingFile = join(a.dir, "auto-router.team-usage-pending.json");
    const pendingIds = () => {
      try {
        return (JSON.parse(readFileSync(pendingFile, "utf8")).entries as Array<{ id: string }>).map((e) => e.id);
      } catch {
        return [];
      }
    };
    // a's entries early (both processes have read them from the shared file by the time Redis is back), b's right
    // before Redis comes back (a's view may not hold them yet).
    for (const id of ["a:1", "a:2", "a:3"]) record(a, id);
    await eventually(() => pendingIds().length === 3, "a's entries in the shared pending file");
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // past the stores' 2 s refresh of other writers
    for (const id of ["b:1", "b:2", "b:3"]) record(b, id);
    await eventually(() => pendingIds().length === 6, "b's entries in the shared pending file");
    await redis.restart();
    for (const m of [a, b])
      await eventually(() => m.backend.describe(Date.now()).connection === "connected", `${m.dir} reconnects`);
    // Both saw the old epoch, so both try the re-seed before writing anything (the first one's seed wins): one that
    // only wrote its queue could otherwise get in before the seed and have it refused.
    assert.equal(told.filter((w) => /reachable again; it had lost its data/.test(w)).length, 2);
    await Promise.all([a.usage.flush(), b.usage.flush()]);
    await eventually(
      () => pendingIds().length === 0 && [a, b].every((m) => m.backend.describe(Date.now()).pendingWrites === 0),
      "the shared pending file emptied",
    );
    await Promise.all([a.usage.flush(), b.usage.flush()]);
    // The two entries from before the loss (re-seeded) and the six written while Redis was down: each once.
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 8);
    assert.ok(Math.abs(costField(prefix, "day", "mock-a|*|costUsd") - 2) < 1e-9);
    assert.equal(costField(prefix, "month", "mock-a|*|requests"), 8);
    for (const m of [a, b])
      await eventually(() => providerSpend(m.usage.read(), calendar, "mock-a").day.requests === 8, `${m.dir} sees 8`);
    assert.equal(costField(prefix, "day", "mock-a|*|requests"), 8);
  });

  it('with state.onStoreDown "local" checks a hard budget against the machine\'s own view while Redis is down', async () => {
    const prefix = "par:local:";
    const a = machine("la", prefix, { onStoreDown: "local" });
    await a.backend.ready();
    a.ledger.record({ id: "l:1", calendar, provider: "mock-a", modelId: "model-a", totals: totals(0.5) });
    await a.usage.flush();
    await redis.kill();
    try {
      await eventually(() => a.backend.describe(Date.now()).connection === "down", "machine a notices");
      assert.equal(await a.ledger.reserve(reservation("l:2", 0.4, 1)), undefined);
      assert.match((await a.ledger.reserve(reservation("l:3", 0.4, 1)))?.reason ?? "", /in flight \$0\.40 /);
    } finally {
      // Back up even when an assertion failed: the other tests and the teardown need Redis.
      await redis.restart();
    }
    await eventually(() => a.backend.describe(Date.now()).connection === "connected", "machine a reconnects");
  });

  it("state push refused a command of its script writes nothing, so the push run again once granted adds the spend once", async () => {
    const prefix = "par:push-noks:";
    const url = redis.aclUser("pushnoks", "pn-pass-3", prefix, "+@all", "-@keyspace");
    const dir = freshDir("auto-router-ledger-push-noks");
    dirs.push(dir);
    const spent = emptyLedger();
    spent.days[calendar.day] = { "mock-a": { "model-a": totals(0.5) } };
    spent.months[calendar.month] = { "mock-a": { "model-a": totals(0.5) } };
    writeFileSync(join(dir, "auto-router.usage.json"), JSON.stringify(spent));
    const a = machine("pn", prefix, { dir, url, warnings: [] });
    await a.backend.ready();
    await assert.rejects(a.backend.pushLocal(), /refused a command to this machine's Redis user/);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0, "nothing of the push was written");
    redis.cli("ACL", "SETUSER", "pushnoks", "+@all");
    assert.deepEqual(await a.backend.pushLocal(), [
      { name: USAGE_STORE_NAME, result: "added this machine's spend (2 entries)" },
    ]);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.5);
    assert.equal(costField(prefix, "month", "mock-a|*|costUsd"), 0.5);
  });

  it("state push finds a file ledger holding only open reservations empty, and pushes spend without its reservations", async () => {
    const prefix = "par:push-reserved:";
    const dir = freshDir("auto-router-ledger-push");
    dirs.push(dir);
    const reservations = { "crashed:1": { provider: "mock-a", amountUsd: 0.4, expiresAt: Date.now() + 60_000 } };
    const fileLedger = join(dir, "auto-router.usage.json");
    writeFileSync(fileLedger, JSON.stringify({ ...emptyLedger(), reservations }));
    const a = machine("pr", prefix, { dir });
    await a.backend.ready();
    assert.deepEqual(await a.backend.pushLocal(), [{ name: USAGE_STORE_NAME, result: "nothing local" }]);
    const spent = parseLedger(JSON.parse(readFileSync(fileLedger, "utf8")));
    spent.days[calendar.day] = { "mock-a": { "model-a": totals(0.5) } };
    spent.months[calendar.month] = { "mock-a": { "model-a": totals(0.5) } };
    writeFileSync(fileLedger, JSON.stringify(spent));
    assert.deepEqual(await a.backend.pushLocal(), [
      { name: USAGE_STORE_NAME, result: "added this machine's spend (2 entries)" },
    ]);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.5);
    assert.equal(redis.cli("EXISTS", `${prefix}usage:reserved:mock-a`), "0", "the machine's reservations stay local");
    assert.deepEqual(a.usage.read().reservations, {});
  });

  it("state push adds each machine's file ledger once: eight windows of one machine pushing at once count it once, a second machine adds its own", async () => {
    const prefix = "par:push-once:";
    const fileLedger = (costUsd: number) => {
      const ledger = emptyLedger();
      ledger.days[calendar.day] = { "mock-a": { "model-a": totals(costUsd) } };
      ledger.months[calendar.month] = { "mock-a": { "model-a": totals(costUsd) } };
      return JSON.stringify(ledger);
    };
    const windows = Array.from({ length: 8 }, () => {
      const dir = freshDir("auto-router-ledger-push-once");
      dirs.push(dir);
      writeFileSync(join(dir, "auto-router.usage.json"), fileLedger(0.5));
      return machine("same", prefix, { dir });
    });
    await Promise.all(windows.map((window) => window.backend.ready()));
    const results = await Promise.all(windows.map((window) => window.backend.pushLocal()));
    const said = results.map(([entry]) => entry?.result ?? "");
    assert.equal(said.filter((text) => text === "added this machine's spend (2 entries)").length, 1, said.join("\n"));
    assert.equal(said.filter((text) => /^this machine's spend was pushed before \(/.test(text)).length, 7);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.5);
    assert.equal(costField(prefix, "month", "mock-a|model-a|requests"), 1);
    const dir = freshDir("auto-router-ledger-push-other");
    dirs.push(dir);
    writeFileSync(join(dir, "auto-router.usage.json"), fileLedger(0.25));
    const other = machine("other", prefix, { dir });
    await other.backend.ready();
    assert.deepEqual(await other.backend.pushLocal(), [
      { name: USAGE_STORE_NAME, result: "added this machine's spend (2 entries)" },
    ]);
    assert.equal(costField(prefix, "day", "mock-a|*|costUsd"), 0.75);
    await eventually(
      () => providerSpend(windows[0]!.usage.read(), calendar, "mock-a").day.costUsd === 0.75,
      "the view follows",
    );
  });

  it("never puts a secret into the team store", () => {
    assert.doesNotMatch(redis.cli("KEYS", "*"), /ledger-secret/);
  });
});
