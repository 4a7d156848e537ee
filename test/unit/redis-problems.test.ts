// The team store's connection errors in the user's terms (what the warning and /health/providers' stateBackend show).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DROPPED_COMMAND_TEXT, explainConnectionError } from "../../src/team/redis-problems.ts";

const explain = (message: string, code?: string, handshaking = false) =>
  explainConnectionError(Object.assign(new Error(message), { code }), {
    tls: false,
    handshaking,
    answeredBefore: true,
  });

describe("team store connection errors in the user's terms", () => {
  it("says a command was dropped with its connection, not ioredis' retry settings", () => {
    for (const message of [
      'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
      'Ready check failed: Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
      "Connection is closed.",
    ]) {
      const problem = explain(message);
      assert.equal(problem.reason, DROPPED_COMMAND_TEXT, message);
      assert.equal(problem.how, undefined, "a lost connection: the warning says lost or unreachable");
    }
  });

  it("names a reset or broken pipe in the handshake as a close before answering, one kind for both", () => {
    const reset = explain("read ECONNRESET", "ECONNRESET", true);
    const pipe = explain("write EPIPE", "EPIPE", true);
    assert.equal(reset.how, "closes the connection before answering");
    assert.equal(pipe.how, reset.how);
    assert.equal(
      explain("Stream isn't writeable and enableOfflineQueue options is false").reason,
      "the server closed the connection before it answered",
    );
  });

  it("says what to fix when Redis refuses the login", () => {
    const problem = explain("WRONGPASS invalid username-password pair or user is disabled.");
    assert.equal(problem.how, "refuses this machine's login");
    assert.match(problem.reason, /check the user and password in state\.url \(or AUTO_ROUTER_REDIS_URL\)$/);
  });
});
