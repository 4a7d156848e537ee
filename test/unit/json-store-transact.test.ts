// StateStore.transact: a decision made under the file lock on what every process has committed. Two store instances
// on one file in one process stand for two processes (each its own memory, queue and lock round trip).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  openJsonStore,
  type JsonStoreOptions,
  type StateStore,
  type StoreWarning,
} from "../../src/state/json-store.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

/** One seat: whoever takes it first holds it. */
type Seats = { taken: string[]; notes: string[] };

function seatOptions(file: string, warnings: StoreWarning[] = []): JsonStoreOptions<Seats> {
  return {
    file,
    defaults: () => ({ taken: [], notes: [] }),
    parse: (raw) => {
      const value = raw as Partial<Seats> | null;
      if (!value || !Array.isArray(value.taken) || !Array.isArray(value.notes)) throw new Error("not seats");
      return { taken: value.taken.map(String), notes: value.notes.map(String) };
    },
    onWarning: (warning) => warnings.push(warning),
    // Only transact() and explicit flushes write, and no background refresh shows one store the other's writes.
    flushDelayMs: 60_000,
    refreshIntervalMs: 0,
  };
}

/** Takes the seat when it is free: true when this caller got it. */
const takeSeat = (store: StateStore<Seats>, who: string) =>
  store.transact!((state) =>
    state.taken.length === 0
      ? { operation: (seats: Seats) => ({ ...seats, taken: [...seats.taken, who] }), result: true }
      : { result: false },
  );

const note =
  (text: string) =>
  (state: Seats): Seats => ({ ...state, notes: [...state.notes, text] });

const readSeats = (file: string): Seats => JSON.parse(readFileSync(file, "utf8")) as Seats;

describe("StateStore.transact (file store)", () => {
  it("decides on the seat another store committed, though its own memory has not seen it", async () => {
    const file = join(freshDir("auto-router-transact"), "auto-router.seats.json");
    const one = openJsonStore(seatOptions(file));
    const two = openJsonStore(seatOptions(file));
    try {
      assert.equal(await takeSeat(one, "one"), true);
      assert.deepEqual(two.read().taken, [], "the other store's memory is stale");
      assert.equal(await takeSeat(two, "two"), false, "the decision saw the committed seat");
      assert.deepEqual(readSeats(file).taken, ["one"]);
      assert.deepEqual(two.read().taken, ["one"], "the store adopted what it decided on");
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("gives the seat to exactly one of two stores deciding at once", async () => {
    const file = join(freshDir("auto-router-transact"), "auto-router.seats.json");
    const stores = [openJsonStore(seatOptions(file)), openJsonStore(seatOptions(file))];
    try {
      const granted = await Promise.all(stores.map((store, index) => takeSeat(store, `store-${index}`)));
      assert.equal(
        granted.filter(Boolean).length,
        1,
        `granted: ${JSON.stringify(granted)}, file: ${readFileSync(file, "utf8")}`,
      );
      assert.equal(readSeats(file).taken.length, 1);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("decides after this store's queued operations and writes them together with its own", async () => {
    const file = join(freshDir("auto-router-transact"), "auto-router.seats.json");
    const other = openJsonStore(seatOptions(file));
    const store = openJsonStore(seatOptions(file));
    try {
      other.update(note("from the other store"));
      await other.flush();
      store.update(note("queued here"));
      let seen: string[] = [];
      const granted = await store.transact!((state) => {
        seen = state.notes;
        return { operation: (seats: Seats) => ({ ...seats, taken: ["store"] }), result: "granted" };
      });
      assert.equal(granted, "granted");
      assert.deepEqual(seen, ["from the other store", "queued here"]);
      assert.deepEqual(readSeats(file), { taken: ["store"], notes: ["from the other store", "queued here"] });
      const written = readFileSync(file, "utf8");
      await store.flush();
      assert.equal(readFileSync(file, "utf8"), written, "the queued operation was written once, not again");
    } finally {
      await Promise.all([store.close(), other.close()]);
    }
  });

  it("writes nothing for a decision without an operation when the disk already holds the state", async () => {
    const file = join(freshDir("auto-router-transact"), "auto-router.seats.json");
    writeFileSync(file, `${JSON.stringify({ taken: ["someone"], notes: [] })}\n`);
    const store = openJsonStore(seatOptions(file));
    try {
      const before = readFileSync(file, "utf8");
      assert.equal(await takeSeat(store, "late"), false);
      assert.equal(readFileSync(file, "utf8"), before);
    } finally {
      await store.close();
    }
  });

  it("rejects with the store's warning and applies nothing when the file cannot be written", async () => {
    const dir = freshDir("auto-router-transact");
    writeFileSync(join(dir, "not-a-directory"), "");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(seatOptions(join(dir, "not-a-directory", "auto-router.seats.json"), warnings));
    try {
      store.update(note("kept in memory"));
      await assert.rejects(takeSeat(store, "store"));
      assert.deepEqual(store.read(), { taken: [], notes: ["kept in memory"] });
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.match(warnings[0]!.message, /cannot write to the state directory/);
    } finally {
      await store.close();
    }
  });

  it("rejects a decision that throws, with a warning, and still writes the queued operations", async () => {
    const file = join(freshDir("auto-router-transact"), "auto-router.seats.json");
    const warnings: StoreWarning[] = [];
    const store = openJsonStore(seatOptions(file, warnings));
    try {
      store.update(note("queued"));
      await assert.rejects(
        store.transact!(() => {
          throw new Error("bug in a decision");
        }),
        /bug in a decision/,
      );
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      await store.flush();
      assert.deepEqual(readSeats(file).notes, ["queued"]);
    } finally {
      await store.close();
    }
  });
});

describe("StateStore.transact (memory store)", () => {
  it("decides and applies at once", async () => {
    const store = createMemoryStore<Seats>({ taken: [], notes: [] });
    const first = takeSeat(store, "one");
    assert.deepEqual(store.read().taken, ["one"], "applied before the promise settles");
    assert.equal(await first, true);
    assert.equal(await takeSeat(store, "two"), false);
  });
});
