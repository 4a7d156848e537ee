// Settings read once, when pi's extension or the gateway starts: the state directory and the team store
// (the gateway adds its HTTP limits). A reload of the routes file cannot apply them, so its confirmation names those an
// edit changed from the values in use: an edit is not taken for applied.
import { isObject } from "../is-object.ts";

/** What both front doors read at start. */
export const START_SETTINGS: readonly string[] = ["logDir", "state"];

/** An environment variable that wins over a setting makes the setting's edits moot, now and after a restart. */
const ENVIRONMENT_WINS: Record<string, readonly string[]> = {
  AUTO_ROUTER_LOG_DIR: ["logDir"],
  AUTO_ROUTER_REDIS_URL: ["state.backend", "state.url"],
  AUTO_ROUTER_MACHINE: ["state.machine"],
};

/** The settings an environment variable decides instead (those set in this environment). */
export function settingsTheEnvironmentDecides(processEnv: Record<string, string | undefined>): string[] {
  return Object.entries(ENVIRONMENT_WINS).flatMap(([name, paths]) => (processEnv[name]?.trim() ? paths : []));
}

const valueAt = (config: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), config);

/** Each leaf under `path` whose value differs between `before` and `after` (`eventLog` -> `eventLog.maxBytes`). */
function changedLeaves(before: unknown, after: unknown, path: string): string[] {
  if (isObject(before) || isObject(after)) {
    const keys = new Set([
      ...Object.keys(isObject(before) ? before : {}),
      ...Object.keys(isObject(after) ? after : {}),
    ]);
    return [...keys].flatMap((key) =>
      changedLeaves(
        isObject(before) ? before[key] : undefined,
        isObject(after) ? after[key] : undefined,
        `${path}.${key}`,
      ),
    );
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [path];
}

/** The settings under `paths` whose value in `after` differs from `before`, leaf by leaf, minus `ignored` ones. */
export function changedSettings(
  before: unknown,
  after: unknown,
  paths: readonly string[],
  ignored: readonly string[] = [],
): string[] {
  return paths
    .flatMap((path) => changedLeaves(valueAt(before, path), valueAt(after, path), path))
    .filter((path) => !ignored.includes(path));
}

/** "a, b changed: they take effect after <restart>"; undefined when nothing did. */
export function restartNote(changed: readonly string[], restart: string): string | undefined {
  if (changed.length === 0) return undefined;
  return `${changed.join(", ")} changed: ${changed.length === 1 ? "it takes" : "they take"} effect after ${restart}`;
}
