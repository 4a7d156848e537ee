// Pure: which state backend this process uses, from the routes file's `state` block and the environment.
// AUTO_ROUTER_REDIS_URL wins over `state.url` and selects Redis on its own. An invalid URL is reported as an issue
// naming where it came from, and the file store is used.
import { hostname } from "node:os";
import type { ConfigIssue } from "../config/issues.ts";
import type { StateConfig } from "../config/state-schema.ts";

export const REDIS_URL_ENV = "AUTO_ROUTER_REDIS_URL";
export const MACHINE_ENV = "AUTO_ROUTER_MACHINE";
export const DEFAULT_KEY_PREFIX = "par:";

export interface RedisSettings {
  backend: "redis";
  url: string;
  /** The URL without its password, for status lines, health pages and warnings. */
  displayUrl: string;
  keyPrefix: string;
  machine: string;
  onStoreDown: "local" | "block";
}
export interface FileSettings {
  backend: "file";
  machine: string;
}
export type TeamSettings = RedisSettings | FileSettings;

/**
 * Removes the passwords from a redis URL: the login's, and a query parameter's (ioredis takes every query parameter as
 * an option: `?password=` logs in as the login's password does). A user name before a password stays, it identifies
 * the ACL user; a login without a colon (`redis://secret@host`) is masked whole: ioredis sends it as a user name, but
 * it is a password written without the colon before it as often as a user without one.
 */
export function redactRedisUrl(url: string): string {
  // First, so that the rest never sees a query password (one holding an `@` would look like the end of a login). A URL
  // without one is shown (and names its team's remembered epoch: team-connection.ts) exactly as before.
  const masked = maskQueryPasswords(url);
  try {
    const parsed = new URL(masked);
    // An `@` after the host: a password with an unencoded `/` was read as a host, a port and a path.
    if (`${parsed.pathname}${parsed.search}${parsed.hash}`.includes("@")) return maskLogin(masked);
    if (parsed.password) parsed.password = "***";
    else if (parsed.username) parsed.username = "***";
    return parsed.toString();
  } catch {
    return maskLogin(masked);
  }
}

/** Query parameters whose value is a secret: `password`, `sentinelPassword`... */
const SECRET_PARAMETER = /password|passphrase|secret|token/i;

/**
 * `url` with the value of each secret query parameter replaced by `***`, up to the next `&` whatever it holds (an
 * unencoded `@` or `#`). From the first `?`: in a malformed URL that may be inside the login, which is masked anyway.
 */
function maskQueryPasswords(url: string): string {
  const query = url.indexOf("?");
  if (query < 0) return url;
  const masked = url.slice(query).replace(/([?&])([^=&#]*)=([^&]*)/g, (parameter, separator: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, " "));
    } catch {}
    return SECRET_PARAMETER.test(decoded) ? `${separator}${name}=***` : parameter;
  });
  return url.slice(0, query) + masked;
}

/**
 * A malformed URL, shown: whatever could be a login is masked. A password may hold any character (a space, `/`, `#`,
 * `?`, `:`, `@`) when it was not percent-encoded, so everything between `://` and the last `@` is the login, whatever
 * it holds. Without `://` (a typo such as `redis//user:pw@host` or `redis:/user:pw@host`) all but the leading scheme
 * name before the last `@` is masked; a URL without `@` has no login.
 */
export function maskLogin(shown: string): string {
  const url = maskQueryPasswords(shown);
  const end = url.lastIndexOf("@");
  if (end < 0) return url;
  const separator = url.indexOf("://");
  const start = separator >= 0 && separator < end ? separator + 3 : (/^[a-z][a-z0-9+.-]*/i.exec(url)?.[0].length ?? 0);
  return `${url.slice(0, start)}***${url.slice(end)}`;
}

const PERCENT_ENCODE_HINT = "; a password with `/`, `?`, `#`, `@` or `:` must be percent-encoded (`/` as %2F)";

/** Undefined when valid, otherwise what was expected. */
export function checkRedisUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const login = url.includes("@") ? PERCENT_ENCODE_HINT : "";
    return `expected redis://host:port/db (user:password@ before the host when Redis asks for a login) or rediss://..., got "${maskLogin(url)}"${login}`;
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return `expected a redis:// or rediss:// URL, got protocol "${parsed.protocol}"`;
  }
  if (!parsed.hostname) return `expected a host name after redis://, got "${maskLogin(url)}"`;
  const database = parsed.pathname.replace(/^\//, "");
  if (database !== "" && !/^\d+$/.test(database)) {
    // An `@` after the host: a password with an unencoded `/` was read as a host and a path; the path holds the rest
    // of the password, so the URL is shown with its login masked, not the path.
    const authorityEnd = url.slice(url.indexOf("://") + 3).search(/[/?#]/) + url.indexOf("://") + 3;
    if (url.lastIndexOf("@") > authorityEnd)
      return `expected redis://host:port/db (user:password@ before the host when Redis asks for a login) or rediss://..., got "${maskLogin(url)}"${PERCENT_ENCODE_HINT}`;
    return `expected a database number after the host, got "/${database}"`;
  }
  // ioredis also reads a `?db=` query, which the team store's own database checks (the path) do not: one place only.
  if (parsed.searchParams.has("db"))
    return `the database goes in the URL's path (redis://host:port/${parsed.searchParams.get("db") || "<db>"}), not in ?db=`;
  return undefined;
}

/**
 * A value inside one pair of quotes: `docker run --env-file` keeps a line's quotes (`AUTO_ROUTER_REDIS_URL="redis://..."`,
 * as a shell file writes it) where a shell and Compose take them off. No URL starts and ends with a quote.
 */
const unquoted = (value: string | undefined): string | undefined =>
  value && value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]
    ? value.slice(1, -1).trim()
    : value;

export function resolveTeamSettings(
  state: StateConfig | undefined,
  processEnv: Record<string, string | undefined>,
  host: string = hostname(),
): { settings: TeamSettings; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const machine = processEnv[MACHINE_ENV]?.trim() || state?.machine?.trim() || host;
  const fromEnv = unquoted(processEnv[REDIS_URL_ENV]?.trim());
  const url = fromEnv || (state?.backend === "redis" ? unquoted(state.url?.trim()) : undefined);
  const where = fromEnv ? REDIS_URL_ENV : "state.url";
  if (!url) {
    // A URL without `backend`: the team store was meant (AUTO_ROUTER_REDIS_URL alone selects it), but only
    // `backend: "redis"` selects it in the routes file. Said, not left to a file store that shares nothing.
    if (state?.backend === undefined && state?.url?.trim())
      issues.push({
        severity: "warning",
        path: "state.url",
        message: `names a team store, but state.backend is not "redis": using the file store; add "backend": "redis" to the state block to use it (or set ${REDIS_URL_ENV})`,
      });
    if (state?.backend === "redis")
      issues.push({
        severity: "warning",
        path: "state.url",
        message: `backend "redis" needs a url (or ${REDIS_URL_ENV}); using the file store`,
      });
    return { settings: { backend: "file", machine }, issues };
  }
  // The environment wins, also over a routes file that asks for the file store: said, so a machine switched back to
  // the file store in its routes file is not left sharing state through a URL its shell still exports.
  if (fromEnv && state?.backend === "file")
    issues.push({
      severity: "warning",
      path: "state.backend",
      message: `is "file", but ${REDIS_URL_ENV} is set and selects the team store (the environment wins): unset ${REDIS_URL_ENV} to use the file store`,
    });
  const problem = checkRedisUrl(url);
  if (problem) {
    issues.push({ severity: "warning", path: where, message: `${problem}; using the file store` });
    return { settings: { backend: "file", machine }, issues };
  }
  // Allowed (a database only the router uses), but it is more often a value emptied by mistake: the team's keys then
  // lie among every other key of the database, and the ACL grant advised for them is every key (~*).
  if (state?.keyPrefix === "")
    issues.push({
      severity: "warning",
      path: "state.keyPrefix",
      message: `is empty: the team's keys lie at the database's top level (epoch, state:*, usage:*) among any others there; leave it out for the default "${DEFAULT_KEY_PREFIX}" unless the database is the router's alone`,
    });
  // `team1`: its keys read `team1state:latency`, and the ACL pattern advised for them (`~team1*`) also grants `team10`'s.
  const prefix = state?.keyPrefix;
  if (prefix && /[A-Za-z0-9]$/.test(prefix))
    issues.push({
      severity: "warning",
      path: "state.keyPrefix",
      message: `"${prefix}" ends in a letter or digit: the team's keys read ${prefix}state:latency, and an ACL pattern ~${prefix}* for them also matches a team "${prefix}0"'s; end it with ":" ("${prefix}:")`,
    });
  return {
    settings: {
      backend: "redis",
      url,
      displayUrl: redactRedisUrl(url),
      keyPrefix: state?.keyPrefix ?? DEFAULT_KEY_PREFIX,
      machine,
      onStoreDown: state?.onStoreDown ?? "block",
    },
    issues,
  };
}
