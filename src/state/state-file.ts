// Reading one state file: its content and identity from one descriptor (so both describe the same version, and never
// through a symbolic link), the name a corrupt copy is moved to, and a one-line reason for invalid content.
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
} from "node:fs";
import type { Stats } from "node:fs";
import { lstat, open, readlink, rename } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";
import { describeError, errorCode } from "./file-lock.ts";
import { type JsonTextError, parseJsonText } from "./json-text.ts";
import type { JsonStoreOptions } from "./store-types.ts";
import { plural } from "../analytics/text-format.ts";

export type FileIdentity = { inode: number; size: number; modifiedMs: number; changedMs: number };

/** A path below a regular file (ENOTDIR) is as absent as a missing one; creating it later reports the problem. */
export function isMissing(error: unknown): boolean {
  return errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR";
}

export function identityOf(stats: Stats): FileIdentity {
  return { inode: stats.ino, size: stats.size, modifiedMs: stats.mtimeMs, changedMs: stats.ctimeMs };
}

/**
 * The identity of a file this process has just written, from a stat taken after the write landed. Another program may
 * have rewritten the file in between (a user's editor, a truncation): a size other than what was written says so, and
 * the identity returned then matches no file, so the next refresh reads the file instead of taking it for this
 * process's own write (and repairs it if it is damaged).
 */
export function writtenIdentity(stats: Stats, text: string): FileIdentity {
  const identity = identityOf(stats);
  return identity.size === Buffer.byteLength(text) ? identity : { ...identity, size: -1 };
}

export function sameIdentity(left: FileIdentity | undefined, right: FileIdentity | undefined): boolean {
  if (!left || !right) return left === right;
  return (
    left.inode === right.inode &&
    left.size === right.size &&
    left.modifiedMs === right.modifiedMs &&
    left.changedMs === right.changedMs
  );
}

/** `symlink`: a symbolic link is in the file's place; it was not followed, and `text` is empty. */
export type FileContent = { text: string; identity: FileIdentity | undefined; symlink?: true };

/** Reads never follow a symbolic link in a state file's place (open fails with ELOOP, on a dangling link too). */
const READ_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;
const LINK_IN_PLACE: FileContent = { text: "", identity: undefined, symlink: true };

/** Content and identity from one open file descriptor, so both describe the same version; undefined if absent. */
export async function readContent(file: string): Promise<FileContent | undefined> {
  let handle;
  try {
    handle = await open(file, READ_NO_FOLLOW);
  } catch (error) {
    if (isMissing(error)) return undefined;
    if (errorCode(error) === "ELOOP") return LINK_IN_PLACE;
    throw error;
  }
  try {
    const identity = identityOf(await handle.stat());
    return { text: await handle.readFile("utf8"), identity };
  } finally {
    await handle.close();
  }
}

export function readContentSync(file: string): FileContent | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(file, READ_NO_FOLLOW);
  } catch (error) {
    if (isMissing(error)) return undefined;
    if (errorCode(error) === "ELOOP") return LINK_IN_PLACE;
    throw error;
  }
  try {
    const identity = identityOf(fstatSync(descriptor));
    return { text: readFileSync(descriptor, "utf8"), identity };
  } finally {
    closeSync(descriptor);
  }
}

/** A symbolic link moved out of a state file's or the log's place: where it pointed, and its new name. */
export interface MovedLink {
  target: string;
  aside: string;
}

/** Why a moved link was not followed, as a damaged file's reason. */
export const linkReason = (link: MovedLink): string => `a symbolic link to ${link.target}, which is never followed`;

/**
 * A symbolic link in the place of a state file or the log (someone else's file behind it would be read and
 * overwritten, and its mode changed) is moved aside as a corrupt file is, so the router writes a file of its own.
 * Undefined when there was none.
 */
export async function moveLinkAside(path: string): Promise<MovedLink | undefined> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return undefined;
    const target = await readlink(path).catch(() => "?");
    const aside = corruptName(path);
    await rename(path, aside);
    return { target, aside };
  } catch {
    return undefined; // missing (the first write creates it), or unreadable: the next access's own error says which
  }
}

export function moveLinkAsideSync(path: string): MovedLink | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
    let target = "?";
    try {
      target = readlinkSync(path);
    } catch {}
    const aside = corruptName(path);
    renameSync(path, aside);
    return { target, aside };
  } catch {
    return undefined;
  }
}

/** Problems on one line: the first `max` named, the rest counted ("...; and 3 more problems"). */
export function someProblems(problems: readonly string[], max = 3): string {
  const rest = problems.length - max;
  const more = rest > 0 ? `; and ${plural(rest, "more problem")}` : "";
  return `${problems.slice(0, max).join("; ")}${more}`;
}

/** One line: a zod error's message is a multi-line JSON dump of every issue, which would flood a warning. */
export function contentProblem(error: unknown): string {
  const issues = (error as { issues?: Array<{ path?: PropertyKey[]; message?: string }> } | undefined)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return describeError(error).replace(/\s+/g, " ");
  return someProblems(
    issues.map(
      (issue) =>
        `${issue.path?.length ? issue.path.map(String).join(".") : "(top level)"}: ${issue.message ?? "invalid"}`,
    ),
  );
}

export function corruptName(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  let candidate = `${file}.corrupt-${stamp}`;
  for (let suffix = 1; existsSync(candidate); suffix += 1) candidate = `${file}.corrupt-${stamp}-${suffix}`;
  return candidate;
}

/** Why `dir` cannot hold state files (created if missing), as an error code or a sentence; undefined when it can. */
export function directoryProblem(dir: string): string | undefined {
  try {
    makeDirectorySync(dir, 0o700);
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    const code = errorCode(error);
    if (code === "EEXIST" || code === "ENOTDIR") {
      const blocker = firstNonDirectory(dir);
      if (blocker === dir) return "it is a file, not a directory";
      if (blocker) return `${blocker} is a file, not a directory`;
    }
    if (code === "EACCES" || code === "EPERM") return `this user may not write in it: ${code}`;
    if (code === "EROFS") return "it is on a read-only file system: EROFS";
    return code === "unknown" || error instanceof UnmakeableDirectory ? describeError(error) : code;
  }
}

/** A directory whose parent exists but refuses to hold it (ENOENT from mkdir there, as /proc answers). */
class UnmakeableDirectory extends Error {
  readonly code = "ENOENT";
}

/**
 * `mkdir -p` without Node's recursive mkdir, which never returns on a path under /proc: mkdir there fails with ENOENT
 * although the parent exists, and Node takes that for a missing parent and retries forever, deaf to SIGTERM. Below
 * the first ancestor that exists (which must be a directory), each missing directory is made on its own.
 */
export function makeDirectorySync(dir: string, mode: number): void {
  const missing: string[] = [];
  for (let path = resolve(dir); ; path = dirname(path)) {
    let stats: Stats | undefined;
    try {
      stats = statSync(path);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error; // ENOTDIR: a file on the way
    }
    if (stats) {
      if (stats.isDirectory()) break;
      throw Object.assign(new Error(`${path} is not a directory`), { code: "ENOTDIR" });
    }
    missing.unshift(path);
    if (dirname(path) === path) break;
  }
  for (const path of missing) {
    try {
      mkdirSync(path, { mode });
    } catch (error) {
      const code = errorCode(error);
      if (code === "EEXIST" && statSync(path).isDirectory()) continue; // another process made it meanwhile
      if (code === "ENOENT")
        throw new UnmakeableDirectory(
          `cannot create ${path}: mkdir in ${dirname(path)} fails with ENOENT although that exists, as on a virtual file system such as /proc`,
        );
      throw error;
    }
  }
}

/** The path itself or the first of its parents that exists and is not a directory (mkdir's EEXIST, ENOTDIR). */
export function firstNonDirectory(path: string): string | undefined {
  const parts = resolve(path).split(sep);
  for (let index = 1; index <= parts.length; index += 1) {
    const prefix = parts.slice(0, index).join(sep) || sep;
    try {
      if (!statSync(prefix).isDirectory()) return prefix === resolve(path) ? path : prefix;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** What a state file's text decodes to: the parsed state, or why not (with what `salvage` could still read). */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; salvaged?: T };

export function decodeState<T>(
  text: string,
  options: Pick<JsonStoreOptions<T>, "parse" | "salvage" | "migrate">,
): Decoded<T> {
  // The store never creates an empty file (the lock does not need the file to exist), so an empty one was damaged.
  if (text.trim() === "") return { ok: false, reason: "empty file" };
  let raw: unknown;
  try {
    raw = parseJsonText(text);
  } catch (error) {
    return { ok: false, reason: invalidJsonReason(error as JsonTextError) };
  }
  const migrated = options.migrate ? options.migrate(raw) : raw;
  try {
    return { ok: true, value: options.parse(migrated) };
  } catch (error) {
    const reason = `invalid content: ${contentProblem(error)}`;
    if (!options.salvage) return { ok: false, reason };
    try {
      return { ok: false, reason, salvaged: options.salvage(migrated) };
    } catch {
      return { ok: false, reason };
    }
  }
}

/** `invalid JSON at line 3, column 7: Unexpected token ...`: where the text is broken, as a routes file's error says. */
function invalidJsonReason(error: JsonTextError): string {
  const what = error.message.replace(/^not valid JSON:\s*/, "");
  const where = error.line !== undefined ? ` at line ${error.line}, column ${error.column}` : "";
  return `invalid JSON${where}${what ? `: ${what}` : ""}`;
}
