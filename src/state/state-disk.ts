// A state file read and written under the store's lock: decoded, a damaged one moved aside (keeping what `salvage`
// could read), and the text it held, so a write that would not change it is skipped.
import { chmodSync, mkdirSync, renameSync, statSync } from "node:fs";
import { chmod, mkdir, rename } from "node:fs/promises";
import { dirname } from "node:path";
import writeFileAtomic from "write-file-atomic";
import {
  corruptName,
  decodeState,
  identityOf,
  linkReason,
  type MovedLink,
  moveLinkAside,
  moveLinkAsideSync,
  readContent,
  readContentSync,
  type Decoded,
  type FileIdentity,
} from "./state-file.ts";
import type { JsonStoreOptions } from "./store-types.ts";

export const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

/** Compact: state files are rewritten on every change, and indentation would double what each rewrite costs. */
export const serializeState = (state: unknown): string => `${JSON.stringify(state)}\n`;

/** `text` is what the file held, so a write that would not change it is skipped. */
export type DiskState<T> = { state: T; identity: FileIdentity | undefined; text?: string };

/** Told once a damaged file was moved aside, and whether some of it was salvaged. */
export type OnDamage = (reason: string, movedTo: string, salvaged: boolean) => void;

type Damaged<T> = Extract<Decoded<T>, { ok: false }>;

/** The state to continue from after moving a damaged file aside: what could be read, else the defaults. */
function afterDamage<T>(decoded: Damaged<T>, movedTo: string, options: JsonStoreOptions<T>, onDamage: OnDamage): T {
  onDamage(decoded.reason, movedTo, decoded.salvaged !== undefined);
  return decoded.salvaged ?? options.defaults();
}

/** A symbolic link in the file's place was moved aside, unread: the state starts from the defaults. */
function linkMovedAside<T>(
  moved: MovedLink | undefined,
  options: JsonStoreOptions<T>,
  onDamage: OnDamage,
): DiskState<T> {
  if (moved) onDamage(linkReason(moved), moved.aside, false);
  return { state: options.defaults(), identity: undefined };
}

/** Call only under the lock: a corrupt file is moved aside, so no other process may be replacing it meanwhile. */
export async function readDisk<T>(
  file: string,
  options: JsonStoreOptions<T>,
  onDamage: OnDamage,
): Promise<DiskState<T>> {
  const content = await readContent(file);
  if (content?.symlink) return linkMovedAside(await moveLinkAside(file), options, onDamage);
  const decoded = content ? decodeState(content.text, options) : undefined;
  if (!content || !decoded) return { state: options.defaults(), identity: undefined };
  if (decoded.ok) return { state: decoded.value, identity: content.identity, text: content.text };
  const target = corruptName(file);
  await rename(file, target);
  return { state: afterDamage(decoded, target, options, onDamage), identity: undefined };
}

export function readDiskSync<T>(file: string, options: JsonStoreOptions<T>, onDamage: OnDamage): DiskState<T> {
  const content = readContentSync(file);
  if (content?.symlink) return linkMovedAside(moveLinkAsideSync(file), options, onDamage);
  const decoded = content ? decodeState(content.text, options) : undefined;
  if (!content || !decoded) return { state: options.defaults(), identity: undefined };
  if (decoded.ok) return { state: decoded.value, identity: content.identity, text: content.text };
  const target = corruptName(file);
  renameSync(file, target);
  const state = afterDamage(decoded, target, options, onDamage);
  if (decoded.salvaged === undefined) return { state, identity: undefined };
  // What was salvaged goes back to disk at once (the caller holds the lock), so a restart does not lose it.
  writeFileAtomic.sync(file, serializeState(state), { mode: FILE_MODE });
  return { state, identity: identityOf(statSync(file)) };
}

export async function ensureDirectory(file: string): Promise<void> {
  const directory = dirname(file);
  const created = await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
  if (created !== undefined) await chmod(directory, DIRECTORY_MODE);
}

export function ensureDirectorySync(file: string): void {
  const directory = dirname(file);
  const created = mkdirSync(directory, { recursive: true, mode: DIRECTORY_MODE });
  if (created !== undefined) chmodSync(directory, DIRECTORY_MODE);
}

/**
 * What a state file holds, read without the lock and never repaired (its directory cannot be written): its state,
 * what `salvage` can read of a damaged one, else the defaults. A link in its place is not followed.
 */
export function readStateOnly<T>(
  file: string,
  options: Pick<JsonStoreOptions<T>, "defaults" | "parse" | "salvage" | "migrate">,
): T {
  try {
    const content = readContentSync(file);
    if (!content || content.symlink) return options.defaults();
    const decoded = decodeState(content.text, options);
    return decoded.ok ? decoded.value : (decoded.salvaged ?? options.defaults());
  } catch {
    return options.defaults();
  }
}
