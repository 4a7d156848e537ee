// The gateway token: every request must carry it (`Authorization: Bearer <t>` or `x-api-key: <t>`; either, when both
// are sent). It comes from AUTO_ROUTER_TOKEN or from a file in the state dir created 0600 on first start. Compared in
// constant time.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, closeSync, constants, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorCode } from "../state/file-lock.ts";
import { directoryProblem, type MovedLink, moveLinkAsideSync } from "../state/state-file.ts";

export const TOKEN_FILE_NAME = "auto-router.gateway-token";
const TOKEN_BYTES = 32;

export interface GatewayToken {
  value: string;
  /** The file it was read from or written to; undefined when it came from the environment. */
  file?: string;
  created: boolean;
  /** A symbolic link that was in the file's place, moved aside unread (as a state file's is). */
  movedLink?: MovedLink;
}

/** The token is read and written only as a regular file of its own, never through a link in its place. */
const READ_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;
const CREATE_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const REFILL_NO_FOLLOW = constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW;

export function resolveToken(env: Record<string, string | undefined>, stateDir: string): GatewayToken {
  const fromEnv = env.AUTO_ROUTER_TOKEN?.trim();
  if (fromEnv) return { value: headerSafe(fromEnv, "AUTO_ROUTER_TOKEN"), created: false };
  const file = join(stateDir, TOKEN_FILE_NAME);
  let existing: string | undefined;
  let movedLink: MovedLink | undefined;
  try {
    existing = readNoFollow(file).trim();
  } catch (error) {
    const code = errorCode(error);
    if (code === "ELOOP") movedLink = moveLinkAsideSync(file);
    else if (code !== "ENOENT" && code !== "ENOTDIR")
      throw new Error(`${file}: cannot read the gateway token: ${(error as Error).message}`);
  }
  if (existing) {
    chmodSync(file, 0o600);
    return { value: headerSafe(existing, file), file, created: false };
  }
  // Created if missing (a state dir under /proc included, where Node's recursive mkdir never returns).
  const problem = directoryProblem(stateDir);
  if (problem)
    throw new Error(
      `state directory ${stateDir} is not usable (${problem}): the gateway keeps its token there (${TOKEN_FILE_NAME}) and expects a writable directory; set AUTO_ROUTER_LOG_DIR or logDir to one, or give the token in AUTO_ROUTER_TOKEN`,
    );
  const value = `ar-${randomBytes(TOKEN_BYTES).toString("base64url")}`;
  // An empty file left by an interrupted first start is filled; anything else in the place makes the open fail.
  const descriptor = openSync(file, existing === "" ? REFILL_NO_FOLLOW : CREATE_NO_FOLLOW, 0o600);
  try {
    writeFileSync(descriptor, `${value}\n`);
  } finally {
    closeSync(descriptor);
  }
  chmodSync(file, 0o600);
  return movedLink ? { value, file, created: true, movedLink } : { value, file, created: true };
}

/**
 * A token a client can send: an HTTP header value is one line, and clients (the openai and Anthropic SDKs, curl)
 * send visible ASCII only. Any other token would get every request a 401 with no hint why, so it is refused at start,
 * saying where it came from (never the token).
 */
function headerSafe(token: string, source: string): string {
  if (/^[\x21-\x7E]+$/.test(token)) return token;
  const found = /[\r\n]/.test(token)
    ? "a line break"
    : /\s/.test(token)
      ? "a space or other whitespace"
      : "a character that is not visible ASCII";
  throw new Error(
    `${source}: the gateway token holds ${found}, which no client can send in an HTTP header; a token is one line of visible ASCII characters (letters, digits and punctuation, 0x21-0x7E), without spaces`,
  );
}

function readNoFollow(file: string): string {
  const descriptor = openSync(file, READ_NO_FOLLOW);
  try {
    return readFileSync(descriptor, "utf8");
  } finally {
    closeSync(descriptor);
  }
}

/**
 * The tokens a request presents, one per header that carries one (`x-api-key`, then `Authorization: Bearer`). Both
 * are checked: Claude Code with ANTHROPIC_AUTH_TOKEN set to the gateway token and a personal ANTHROPIC_API_KEY sends
 * both headers, the gateway token in either.
 */
export function presentedTokens(headers: Record<string, string | string[] | undefined>): string[] {
  const tokens: string[] = [];
  const apiKey = headers["x-api-key"];
  if (typeof apiKey === "string" && apiKey.length > 0) tokens.push(apiKey);
  const authorization = headers.authorization;
  if (typeof authorization === "string") {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) tokens.push(match[1]!.trim());
  }
  return tokens;
}

/** Presented tokens are compared in a buffer of at least this many bytes, whatever their length. */
const COMPARED_BYTES = 256;

/**
 * Checks presented tokens against one expected token in constant time, without hashing every request: the presented
 * token is written into a zeroed buffer of a fixed size (truncated there), compared with the expected token padded
 * the same way, and only then the lengths. The work depends on the presented token's length (the caller's own) and
 * on the fixed size, never on how much of the secret matched.
 */
export function tokenMatcher(expected: string): (presented: string | undefined) => boolean {
  const expectedBytes = Buffer.byteLength(expected);
  const size = Math.max(COMPARED_BYTES, expectedBytes);
  const padded = Buffer.alloc(size);
  padded.write(expected, "utf8");
  const scratch = Buffer.alloc(size);
  return (presented) => {
    if (presented === undefined) return false;
    scratch.fill(0);
    scratch.write(presented, "utf8");
    const same = timingSafeEqual(scratch, padded);
    return same && Buffer.byteLength(presented) === expectedBytes;
  };
}

export const tokenMatches = (expected: string, presented: string | undefined): boolean =>
  tokenMatcher(expected)(presented);
