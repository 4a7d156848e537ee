// Which routed requests a drain ends at once: those waiting for a resting target (now, or from when their wait
// starts), never one with an attempt under way, until the deadline ends them all.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import type { FastifyReply } from "fastify";
import { InFlightRequests, RequestWatch } from "../../src/gateway/request-watch.ts";
import type { Candidate } from "../../src/routing/types.ts";

const candidate = { key: "a/x" } as Candidate;

function watchOn(inFlight: InFlightRequests): RequestWatch {
  const raw = Object.assign(new EventEmitter(), { writableEnded: false });
  return new RequestWatch({ now: () => 0, inFlight }, { raw } as unknown as FastifyReply, "main");
}

describe("requests in flight during a drain", () => {
  it("ends a waiting request when the drain begins, and one that starts waiting after it at once", () => {
    const inFlight = new InFlightRequests();
    const waiting = watchOn(inFlight);
    const attempting = watchOn(inFlight);
    waiting.observer.onWait?.(60_000);
    attempting.observer.onWait?.(1_000);
    attempting.observer.onAttemptStart?.(candidate); // its target came back: an attempt runs
    inFlight.drain();
    assert.equal(waiting.shutDown, true);
    assert.equal(attempting.signal.aborted, false, "an attempt under way may still finish within the drain");
    attempting.observer.onAttemptResult?.(candidate, {
      status: "failed",
      failure: { kind: "server" },
      latencyMs: 1,
    } as never);
    attempting.observer.onWait?.(30_000);
    assert.equal(attempting.shutDown, true, "a wait that starts during the drain ends at once");
  });

  it("ends every request still in flight at the deadline, and forgets each one closed", () => {
    const inFlight = new InFlightRequests();
    const running = watchOn(inFlight);
    const closed = watchOn(inFlight);
    closed.close();
    assert.equal(inFlight.size, 1);
    inFlight.endAll();
    assert.equal(running.shutDown, true);
    assert.equal(closed.signal.aborted, false);
  });
});
