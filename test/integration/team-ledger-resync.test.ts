// The team spend ledger while a machine re-syncs after Redis lost its data (FLUSHDB while connected), against a real
// redis-server: two machines' state backends in this process, each with its own state dir. A re-check of the team
// store (the 5 s timer, or another machine's change notice) that falls between this machine's epoch check and the
// re-seed of its view must not take the other machine's re-seeded ledger into the view: the view's spend beyond the
// re-seed is then merged in again, and this machine's answers counted twice.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { calendarKeys } from "../../src/budget/calendar.ts";
import type { SpendLedger } from "../../src/budget/spend-ledger.ts";
import { emptyLedger, parseLedger, USAGE_STORE_NAME, type UsageLedger } from "../../src/budget/usage-ledger.ts";
import type { StateStore } from "../../src/state/json-store.ts";
import { openStateBackend, type StateBackend } from "../../src/team/state-backend.ts";
import { freshDir } from "../helpers/fresh-dir.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

type TeamLedger = StateStore<UsageLedger> & SpendLedger & { refresh(): Promise<void>; flush(): Promise<void> };

const PREFIX = "par:resync:";

describe("team ledger: a re-check while the machine re-syncs after Redis lost its data", () => {
  let redis: RedisServer;
  const backends: StateBackend[] = [];

  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await Promise.all(backends.map((backend) => backend.close()));
    await redis.stop();
  });

  const machine = (name: string, url = redis.url) => {
    const backend = openStateBackend({
      settings: {
        backend: "redis",
        url,
        displayUrl: url,
        keyPrefix: PREFIX,
        machine: name,
        onStoreDown: "local",
      },
      stateDir: freshDir(`auto-router-resync-${name}`),
      onWarning: () => undefined,
      warn: () => undefined,
    });
    backends.push(backend);
    const ledger = backend.open(USAGE_STORE_NAME, emptyLedger, parseLedger) as TeamLedger;
    return { backend, ledger };
  };
  const day = calendarKeys(Date.now(), undefined);
  let counter = 0;
  const answer = (ledger: TeamLedger) =>
    ledger.record({
      id: `resync-${++counter}:1`,
      calendar: day,
      provider: "mock-a",
      modelId: "model-a",
      totals: { requests: 1, estimated: 0, input: 12, output: 7, cacheRead: 0, cacheWrite: 0, costUsd: 0.026 },
    });
  const teamRequests = () => Number(redis.cli("HGET", `${PREFIX}usage:day:${day.day}`, "mock-a|*|requests") || "0");
  const until = async (condition: () => boolean, what: string) => {
    for (let i = 0; i < 400; i++) {
      if (condition()) return;
      await new Promise((resolve) => setImmediate(resolve));
      if (i > 100) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`never happened: ${what}`);
  };

  it("counts each answer once when a re-check runs between the epoch check and the re-seed", async () => {
    const a = machine("ra");
    // Machine b's Redis user has no channel: it hears no change notice (a's re-seed among them), as when one is in
    // flight, and finds the loss with its own answer's write.
    redis.cli("ACL", "SETUSER", "deaf", "on", ">deaf-pass", `~${PREFIX}*`, "+@all");
    const b = machine("rb", redis.url.replace("redis://", "redis://deaf:deaf-pass@"));
    await Promise.all([a.backend.ready(), b.backend.ready()]);
    for (let i = 0; i < 3; i++) {
      answer(a.ledger);
      answer(b.ledger);
    }
    await until(() => teamRequests() === 6, "the 6 answers are in the team store");
    // Both views read the team's 6 answers.
    await Promise.all([a.ledger.refresh(), b.ledger.refresh()]);
    await until(
      () => [a, b].every(({ ledger }) => ledger.read().days[day.day]?.["mock-a"]?.["model-a"]?.requests === 6),
      "both views hold the 6 answers",
    );

    redis.cli("FLUSHDB");
    // Machine a answers first: its write finds the team store emptied, and it re-seeds it with its view.
    answer(a.ledger);
    await until(() => teamRequests() === 7, "machine a re-seeded the team store with its view and its answer");
    await until(() => a.backend.describe(Date.now()).connection === "connected", "machine a synced again");

    // Machine b answers: its write is refused (the epoch is new), its connection syncs again; a re-check of the team
    // store asked for while it does so (b's 5 s timer, or a's change notice) is queued before b's view is merged.
    answer(b.ledger);
    void b.ledger.refresh();
    await until(() => b.backend.describe(Date.now()).connection === "connected", "machine b synced again");
    await b.ledger.flush();
    await until(() => teamRequests() >= 8, "machine b's answer is in the team store");
    // Settled: nothing more is written.
    await Promise.all([a.ledger.flush(), b.ledger.flush()]);
    assert.equal(teamRequests(), 8, "every answer once: 6 before the loss, one of a's and one of b's after it");
    await b.ledger.refresh();
    assert.equal(b.ledger.read().days[day.day]?.["mock-a"]?.["model-a"]?.requests, 8);
  });
});
