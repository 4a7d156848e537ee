// Where the extension keeps its state and event log. Pure: the environment and pi's agent dir are arguments.
// Every name produced here is a flat file ending in .json/.jsonl, because pi loads any *.ts/*.js file or any
// folder with an index/package.json inside its extensions/ directory as an extension.
import { dirname, isAbsolute, join, resolve } from "node:path";

export const EVENT_LOG_NAME = "auto-router.events.jsonl";
export const ROUTES_FILE_NAME = "auto-router.routes.json";

/**
 * AUTO_ROUTER_CONFIG ("~/" expanded; a relative path from the directory the process started in, made absolute so that
 * status and warnings name the file a process in another directory would not find) > <agentDir>/extensions/...
 */
export function routesFilePath(processEnv: Record<string, string | undefined>, agentDir: string): string {
  const fromEnvironment = processEnv.AUTO_ROUTER_CONFIG;
  return fromEnvironment
    ? resolve(expandHome(fromEnvironment, processEnv))
    : join(agentDir, "extensions", ROUTES_FILE_NAME);
}

/** State file names are code constants such as "usage" or "breaker"; anything else would escape the directory. */
const STATE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/i;

function expandHome(path: string, processEnv: Record<string, string | undefined>): string {
  const home = processEnv.HOME ?? processEnv.USERPROFILE;
  if (!home) return path;
  if (path === "~") return home;
  if (path.startsWith("~/") || path.startsWith("~\\")) return join(home, path.slice(2));
  return path;
}

/**
 * Precedence: AUTO_ROUTER_LOG_DIR, then the config's logDir, then <agentDir>/extensions. "~/" is the home dir in both
 * (a quoted value, a systemd Environment= line or a Docker env file leaves it to us; the earlier router expanded it).
 * A relative logDir is relative to the routes file's directory (`routesFile`), as a path in a file reads: taken from
 * the directory pi runs in, each project would get a state dir of its own, its own spend ledger and budgets among it.
 */
export function resolveStateDir(input: {
  processEnv: Record<string, string | undefined>;
  configLogDir?: string;
  agentDir: string;
  /** The routes file the config's logDir was read from. */
  routesFile?: string;
}): string {
  const fromEnvironment = input.processEnv.AUTO_ROUTER_LOG_DIR?.trim();
  // Relative: from the directory the process started in, shown absolute (pi run in each project would each have one).
  if (fromEnvironment) return resolve(expandHome(fromEnvironment, input.processEnv));
  const fromConfig = input.configLogDir?.trim();
  if (fromConfig) {
    const expanded = expandHome(fromConfig, input.processEnv);
    return input.routesFile && !isAbsolute(expanded) ? resolve(dirname(input.routesFile), expanded) : expanded;
  }
  return join(input.agentDir, "extensions");
}

/** Where resolveStateDir took the directory from, as the user would name it in a message. */
export function stateDirSource(input: {
  processEnv: Record<string, string | undefined>;
  configLogDir?: string;
}): string {
  if (input.processEnv.AUTO_ROUTER_LOG_DIR?.trim()) return "AUTO_ROUTER_LOG_DIR";
  if (input.configLogDir?.trim()) return "logDir in the routes file";
  return "the default, <agentDir>/extensions";
}

export function stateFile(dir: string, name: string): string {
  if (!STATE_NAME_PATTERN.test(name)) {
    throw new Error(`invalid state file name "${name}": use letters, digits and dashes only`);
  }
  return join(dir, `auto-router.${name}.json`);
}
