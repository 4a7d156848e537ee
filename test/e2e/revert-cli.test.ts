// failover.revert holds through the real pi CLI: what `/auto-router status` says of the probe of the first choice
// while that target rests, and what explain says when the stand-in fails and the first choice serves.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type EmulatedAgent, startEmulatedAgent, TWO_OPENAI_PROVIDERS } from "../helpers/emulated-agent.ts";
import { runPi } from "../helpers/pi-cli.ts";

const agentWith = (failover: Record<string, unknown>) =>
  startEmulatedAgent({
    emulators: { A: "openai", B: "openai" },
    providers: TWO_OPENAI_PROVIDERS,
    routes: {
      failover,
      routes: {
        main: {
          sortBy: "config",
          targets: [
            { provider: "mock-a", modelId: "model-a" },
            { provider: "mock-b", modelId: "model-b" },
          ],
        },
      },
    },
  });

describe("pi CLI: failover.revert holds", () => {
  let dir: EmulatedAgent<"A" | "B">;
  after(() => dir?.stop());
  const pi = async (...args: string[]) => {
    const run = await runPi({ agentDir: dir.agentDir, args: ["--model", "auto-router/main", "-p", ...args] });
    assert.equal(run.code, 0, run.stderr);
    return run;
  };

  describe("a first choice resting longer than the holdoff", () => {
    before(async () => {
      // A server error rests the first choice 90 s, far past the 1 s holdoff, and past what the four pi runs below
      // take on a loaded machine (at the default 30 s, runs of ~7 s each left less than the 20 s the texts were matched
      // for).
      dir = await agentWith({ revert: "holdoff", holdoffMs: 1000, kinds: { server: { cooldownMs: 90_000 } } });
      dir.emulators.A.setDefault({ text: "Hello from A." });
      dir.emulators.B.setDefault({ text: "Hello from B." });
    });

    it("status says the probe waits for the first choice's cooldown, and the next request keeps to the stand-in", async () => {
      dir.emulators.A.enqueue({ status: 500, errorMessage: "boom" });
      assert.equal((await pi("hi")).stdout.trim(), "Hello from B.");
      const during = await pi("/auto-router status");
      assert.match(
        during.stderr,
        /main: on mock-b\/model-b after failing over from mock-a\/model-a; probes the first choice when its cooldown ends, in ([6-8]\d|90)s/,
      );
      await sleep(1200); // the holdoff is over; the cooldown is not
      const afterHoldoff = await pi("/auto-router status");
      assert.doesNotMatch(afterHoldoff.stderr, /the next request probes the first choice/);
      assert.match(afterHoldoff.stderr, /probes the first choice when its cooldown ends, in [5-8]\ds/);
      const callsA = dir.emulators.A.calls.length;
      const next = await pi("hi again", "/auto-router explain");
      assert.equal(next.stdout.trim(), "Hello from B.");
      assert.equal(dir.emulators.A.calls.length, callsA, "the resting first choice was not probed");
      // Its time left in the words status uses ("27s"), not "27 s".
      // (A second or more between the decision and explain under load adds what is left now.)
      assert.match(next.stderr, /- mock-a\/model-a: cooldown for [5-8]\ds( then, [4-8]\ds left now)? - resting/);
    });
  });

  describe("a stand-in that fails while the hold is on", () => {
    before(async () => {
      await dir?.stop();
      // The first choice rests 0.5 s after a server error; the hold would keep to the stand-in for a minute.
      dir = await agentWith({ revert: "holdoff", holdoffMs: 60_000, kinds: { server: { cooldownMs: 500 } } });
      dir.emulators.A.setDefault({ text: "Hello from A." });
      dir.emulators.B.setDefault({ text: "Hello from B." });
    });

    it("explain says the stand-in failed and the hold ended, and status lists no hold", async () => {
      dir.emulators.A.enqueue({ status: 500, errorMessage: "boom" });
      assert.equal((await pi("hi")).stdout.trim(), "Hello from B.");
      await sleep(700); // the first choice's rest is over: the hold alone puts the stand-in first
      dir.emulators.B.enqueue({ status: 500, errorMessage: "stand-in boom" });
      const run = await pi("hi again", "/auto-router explain", "/auto-router status");
      assert.equal(run.stdout.trim(), "Hello from A.");
      assert.match(run.stderr, /1\. mock-b\/model-b: failed \(server, HTTP 500/);
      assert.match(
        run.stderr,
        /Notes:\n {2}staying on mock-b\/model-b after failing over from mock-a\/model-a \(holdoff: probes the first choice in \d+s\)\n {2}revert hold ended: the stand-in mock-b\/model-b failed and the first choice mock-a\/model-a served, so the route is back on it\n/,
      );
      assert.doesNotMatch(run.stderr, /revert holds:/);
    });
  });
});
