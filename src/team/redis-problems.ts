// The team store's problems in the user's terms: the bounds of a connection and a command, what Redis and ioredis say
// when a login, a TLS handshake, a database index, a permission or memory stops the team store, and the text each
// becomes in the warning and in `/auto-router state`.
export const CONNECT_TIMEOUT_MS = 2_000;
/**
 * A command unanswered this long means Redis hangs with the connection open (a stuck server, a partition that drops
 * packets): the connection is then treated as down and made anew, so a hard budget's reservation or a probe claim
 * waits this long at most, once, instead of for ever.
 */
export const COMMAND_TIMEOUT_MS = 2_000;

const LOGIN_REFUSED = /^(?:WRONGPASS|NOAUTH)\b/;
export const DB_OUT_OF_RANGE = /DB index is out of range|invalid DB index/i;
/** ioredis' parser on a reply that is not RESP (an HTTP server, say, answers "HTTP/1.1 400 ..."). */
export const NOT_REDIS = /Protocol error, got "(.*?)" as reply type byte/;
export const REDIS_URL_SOURCE = "state.url (or AUTO_ROUTER_REDIS_URL)";
/**
 * Redis refused a command to the URL's ACL user: NOPERM for a command, key or channel; from a script (Redis 7.0's
 * words: "ERR The user executing the script can't ..."), a command the user lacks (EXISTS or EXPIRE for a user
 * without `@keyspace`), a key, or the PUBLISH of its change notice (Redis 7 gives a new user no channel unless
 * `&<channel>` or `allchannels` is granted).
 */
export const NO_PERMISSION =
  /^NOPERM\b|can't publish to the channel|can't run this command|can't access at least one of the keys|no permissions to (?:run|access)/;

/**
 * A refusal's text as the warning quotes it: without the script's sha and line that Redis appends to an error from
 * inside a script (" script: 0ba7..., on @user_script:8."), which tell the user nothing, and without the final period.
 */
export function refusalText(message: string): string {
  return message.replace(/ script: [0-9a-f]{40}, on @user_script:\d+\.?\s*$/, "").replace(/\.$/, "");
}

/** Which grant a refusal asks for: the team's channel, its keys, or the commands. */
export function refusedGrant(message: string): "keys" | "commands" | "channel" {
  if (/channel/.test(message)) return "channel";
  // "one of the keys used as arguments", and from a script "at least one of the keys mentioned in the command ...".
  if (/\bkeys\b/.test(message)) return "keys";
  return "commands";
}
/** Redis's refusal of a write when maxmemory is reached and nothing may be evicted. */
export const OUT_OF_MEMORY = /^OOM /;
/** A command on a key that holds another kind of value (a team key a hand edit or another tool overwrote). */
export const WRONG_TYPE = /\bWRONGTYPE\b/;
export const OUT_OF_MEMORY_TEXT =
  "Redis is out of memory and refuses writes (used memory > maxmemory, with maxmemory-policy noeviction): raise maxmemory or free memory in Redis";

/** A read or write found the team store's epoch key gone or new: Redis lost its data (flushed, evicted, restarted). */
export class EpochLostError extends Error {
  constructor() {
    super("the team store lost its data (its epoch key is gone or new); re-seeding it from this machine's views");
  }
}

/** The server accepted the connection, but did not answer the handshake within the command bound. */
export class SilentServerError extends Error {
  constructor(address: string) {
    super(`no answer from ${address} within ${COMMAND_TIMEOUT_MS / 1000} s: connected, but the server never answered`);
  }
}

/**
 * ioredis' words for its handshake's command when the server closed the connection under it (just after the reset or
 * broken pipe that says more, which it does not replace).
 */
export const UNWRITABLE = /^Stream isn't writeable/;
/**
 * ioredis' words for a command it gave up on because the connection closed before the answer came (its ready check's
 * too: "Ready check failed: Reached the max retries per request limit ...").
 */
export const DROPPED_COMMAND = /Reached the max retries per request limit|^Connection is closed/;
export const DROPPED_COMMAND_TEXT = "the connection closed before Redis answered a command";
/** Certificate errors that the CA which signed the server's certificate, given to Node, resolves. */
const UNTRUSTED_CERTIFICATE = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);
/** Other certificate errors: expired, not yet valid, issued for another host name. */
const REFUSED_CERTIFICATE = /^(?:CERT_|ERR_TLS_CERT_)/;

export interface ConnectionProblem {
  /** What the warning says the team store does ("refuses this machine's login"); unset: unreachable or lost. */
  how?: string;
  /** The error, with what to fix where that is known: shown in the warning and by `/auto-router state`. */
  reason: string;
}

/**
 * A connection error in the user's terms. Redis that answers but refuses the URL's user or password is no network
 * problem, and will not pass by waiting: the error says what to fix (the reconnects go on, for a password changed on
 * the server). So are TLS problems, which Node names only by their code: a certificate this machine does not trust, a
 * `rediss://` URL for a Redis without TLS (it never answers the TLS handshake), a `redis://` URL for a Redis that takes
 * only TLS (it closes the connection at the first command). `tls`: the URL is rediss://; `handshaking`: the
 * connection was made, and Redis had not answered yet; `answeredBefore`: a connection of this process was ready once.
 */
export function explainConnectionError(
  error: Error & { code?: unknown },
  context: { tls: boolean; handshaking: boolean; answeredBefore?: boolean },
): ConnectionProblem {
  const message = error.message;
  const code = typeof error.code === "string" ? error.code : "";
  if (LOGIN_REFUSED.test(message))
    return {
      how: "refuses this machine's login",
      reason: `${message.replace(/\.$/, "")}: check the user and password in ${REDIS_URL_SOURCE}`,
    };
  if (UNTRUSTED_CERTIFICATE.has(code))
    return {
      how: "has a TLS certificate this machine does not trust",
      reason: `${message}: give Node the CA that signed it, NODE_EXTRA_CA_CERTS=<ca.pem> in the environment of pi (or the gateway)`,
    };
  if (REFUSED_CERTIFICATE.test(code)) return { how: "has a TLS certificate this machine refuses", reason: message };
  // A Redis without TLS answers the TLS hello as a command (or not at all, below): not a TLS record.
  if (context.tls && (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG"))
    return {
      how: "does not answer in TLS",
      reason: `${message}: if this Redis does not take TLS, use redis:// in ${REDIS_URL_SOURCE}`,
    };
  if (context.tls && code === "ETIMEDOUT")
    return {
      how: "does not answer",
      reason: `${message}: no TLS handshake within ${CONNECT_TIMEOUT_MS / 1000} s; if this Redis does not take TLS, use redis:// in ${REDIS_URL_SOURCE}`,
    };
  if (DROPPED_COMMAND.test(message)) return { reason: DROPPED_COMMAND_TEXT };
  const unwritable = UNWRITABLE.test(message);
  if ((context.handshaking && (code === "ECONNRESET" || code === "EPIPE")) || unwritable) {
    const reason = unwritable ? "the server closed the connection before it answered" : message;
    // A server this URL reached before is not one that takes only TLS.
    const tlsHint = !context.tls && !context.answeredBefore;
    return {
      how: "closes the connection before answering",
      reason: tlsHint
        ? `${reason}: a Redis that takes only TLS does so; if it does, use rediss:// in ${REDIS_URL_SOURCE}`
        : reason,
    };
  }
  return { reason: message };
}
