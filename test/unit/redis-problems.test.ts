// The team store's connection errors in the user's terms (what the warning and /health/providers' stateBackend show).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DROPPED_COMMAND_TEXT,
  explainConnectionError,
  NO_PERMISSION,
  refusalText,
  refusedGrant,
} from "../../src/team/redis-problems.ts";

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

  it("reads Redis 7.0's refusals from inside a script as the grant they need, without the script's sha", () => {
    const sha = "872bc6701b4ac00ebb820e81652ffe2b4bc16f1b";
    const cases = [
      ["ERR The user executing the script can't run this command or subcommand", "commands"],
      [
        "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments",
        "keys",
      ],
      ["ERR The user executing the script can't publish to the channel mentioned in the command", "channel"],
      ["NOPERM this user has no permissions to run the 'set' command", "commands"],
      ["NOPERM this user has no permissions to access one of the keys used as arguments", "keys"],
      ["NOPERM this user has no permissions to access one of the channels used as arguments", "channel"],
    ] as const;
    for (const [text, grant] of cases) {
      const message = text.startsWith("ERR") ? `${text} script: ${sha}, on @user_script:8.` : text;
      assert.ok(NO_PERMISSION.test(message), message);
      assert.equal(refusedGrant(message), grant, message);
      assert.equal(refusalText(message), text);
    }
  });
});
