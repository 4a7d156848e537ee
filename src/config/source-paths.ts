// Where a value of the migrated routes file is in the file the user wrote (migrate.ts records each move): an old rule's
// `condition.afterTime` is checked as `when.timeWindow.after`, and a problem with it is named, and located, at
// `condition.afterTime`. Keys are migrated paths under the prefix the migration used for their route (`routes[0]` in a
// routes array, itself moved from `routes.<id>`), so a path is resolved one move at a time.

/** Migrated path -> the path it was written at. */
export type SourcePaths = Map<string, string>;

/** The longest prefix of `path` that is a whole path (it ends before `.`, `[` or at the end) and has a move. */
function movedPrefix(path: string, moves: ReadonlyMap<string, string>): string | undefined {
  for (let end = path.length; end > 0; end -= 1) {
    if (end < path.length && path[end] !== "." && path[end] !== "[") continue;
    const prefix = path.slice(0, end);
    if (moves.has(prefix)) return prefix;
  }
  return undefined;
}

/** `path` in the migrated config as the user's file names it. */
export function sourcePathOf(path: string, moves: ReadonlyMap<string, string>): string {
  let current = path;
  // Each move is from a migrated path to the file's: a few steps at most (a route of a routes array, then its rule).
  for (let step = 0; step < 8; step += 1) {
    const prefix = movedPrefix(current, moves);
    if (prefix === undefined) break;
    current = moves.get(prefix)! + current.slice(prefix.length);
  }
  return current;
}

/**
 * `message` as the user's file names things: an issue at a migrated path may name a sibling key the migration renamed
 * (`must be at most maxTokens (5)` of a rule written with `estimatedTokensMax`), and says the file's name instead.
 */
export function sourceMessageOf(path: string, message: string, moves: ReadonlyMap<string, string>): string {
  const parent = path.slice(0, Math.max(path.lastIndexOf("."), 0));
  if (!parent) return message;
  let text = message;
  for (const [moved, source] of moves) {
    if (!moved.startsWith(`${parent}.`)) continue;
    const name = moved.slice(parent.length + 1);
    const written = source.slice(source.lastIndexOf(".") + 1);
    if (!/^\w+$/.test(name) || written === name) continue;
    text = text.replace(new RegExp(`\\b${name}\\b`, "g"), written);
  }
  return text;
}
