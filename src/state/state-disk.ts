// A state file read and written under the store's lock: decoded, a damaged one moved aside (continuing from the
// reading process's last view of it, else from what `salvage` could read), and the text it held, so a write that would
// not change it is skipped.
import { chmodSync, mkdirSync, renameSync, statSync } from "node:fs";
import { chmod, mkdir, rename } from "node:fs/promises";
import { dirname } from "node:path";
import writeFileAtomic from "write-file-atomic";
import {
  corruptName,
  decodeState,
  writtenIdentity,
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
import { isObject } from "../is-object.ts";

export const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

/** Compact: state files are rewritten on every change, and indentation would double what each rewrite costs. */
export const serializeState = (state: unknown): string => `${JSON.stringify(state)}\n`;

/** `text` is what the file held, so a write that would not change it is skipped. */
export type DiskState<T> = { state: T; identity: FileIdentity | undefined; text?: string };

/** What a store continued from after damage: its own last view, what salvage read, both, or the defaults. */
export type DamageOutcome = { salvaged: boolean; fromView: boolean };

/** Told once a damaged file was moved aside, and what the store continues from. */
export type OnDamage = (reason: string, movedTo: string, outcome: DamageOutcome) => void;

type Damaged<T> = Extract<Decoded<T>, { ok: false }>;

/**
 * `view` as the base, completed by `salvaged` where the view has no value (a key only the damaged file holds: another
 * process's write since this one last read); the view wins where both hold one. Plain objects merge key by key.
 */
function completed(view: unknown, salvaged: unknown): unknown {
  if (!isObject(view) || !isObject(salvaged)) return view;
  const merged: Record<string, unknown> = { ...salvaged };
  for (const [key, value] of Object.entries(view)) merged[key] = completed(value, salvaged[key]);
  return merged;
}

/**
 * The state to continue from after moving a damaged file aside. A process that already read or wrote the file
 * (`view`) continues from that, so what other processes' damage or a truncation destroyed is rewritten from its
 * memory (a hard budget's spend stays spent); one with no view yet starts from what could be read, else the defaults.
 */
function afterDamage<T>(
  decoded: Damaged<T>,
  movedTo: string,
  options: JsonStoreOptions<T>,
  onDamage: OnDamage,
  view: T | undefined,
): T {
  const salvaged = decoded.salvaged !== undefined;
  onDamage(decoded.reason, movedTo, { salvaged, fromView: view !== undefined });
  if (view === undefined) return decoded.salvaged ?? options.defaults();
  if (!salvaged) return structuredClone(view);
  // The combination is read back like a file, so a merge the schema rejects falls back to the view alone.
  const merged = decodeState(serializeState(completed(view, decoded.salvaged)), options);
  return merged.ok ? merged.value : structuredClone(view);
}

/** A symbolic link in the file's place was moved aside, unread: the state starts from the defaults. */
function linkMovedAside<T>(
  moved: MovedLink | undefined,
  options: JsonStoreOptions<T>,
  onDamage: OnDamage,
): DiskState<T> {
  if (moved) onDamage(linkReason(moved), moved.aside, { salvaged: false, fromView: false });
  return { state: options.defaults(), identity: undefined };
}

/**
 * Call only under the lock: a corrupt file is moved aside, so no other process may be replacing it meanwhile. `view`:
 * the state this process last read from or wrote to the file (none yet: undefined), to continue from if it is damaged.
 */
export async function readDisk<T>(
  file: string,
  options: JsonStoreOptions<T>,
  onDamage: OnDamage,
  view?: T,
): Promise<DiskState<T>> {
  const content = await readContent(file);
  if (content?.symlink) return linkMovedAside(await moveLinkAside(file), options, onDamage);
  const decoded = content ? decodeState(content.text, options) : undefined;
  if (!content || !decoded) return { state: options.defaults(), identity: undefined };
  if (decoded.ok) return { state: decoded.value, identity: content.identity, text: content.text };
  const target = corruptName(file);
  await rename(file, target);
  return { state: afterDamage(decoded, target, options, onDamage, view), identity: undefined };
}

export function readDiskSync<T>(
  file: string,
  options: JsonStoreOptions<T>,
  onDamage: OnDamage,
  view?: T,
): DiskState<T> {
  const content = readContentSync(file);
  if (content?.symlink) return linkMovedAside(moveLinkAsideSync(file), options, onDamage);
  const decoded = content ? decodeState(content.text, options) : undefined;
  if (!content || !decoded) return { state: options.defaults(), identity: undefined };
  if (decoded.ok) return { state: decoded.value, identity: content.identity, text: content.text };
  const target = corruptName(file);
  renameSync(file, target);
  const state = afterDamage(decoded, target, options, onDamage, view);
  if (decoded.salvaged === undefined && view === undefined) return { state, identity: undefined };
  // What was kept goes back to disk at once (the caller holds the lock), so a restart does not lose it.
  const text = serializeState(state);
  writeFileAtomic.sync(file, text, { mode: FILE_MODE });
  return { state, identity: writtenIdentity(statSync(file), text) };
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
