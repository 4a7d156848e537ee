// The router's environment variables: the on/off switches read as people write them (1/0, true/false, on/off,
// yes/no), and a variable with the router's prefix that no part of it reads (`AUTO_ROUTER_LOGDIR`), which would
// otherwise be ignored without a word while the user believes it applies.
import { closestWord } from "./spelling.ts";

/** Every AUTO_ROUTER_* name something reads (the gateway token's name is one README suggests for Codex's config). */
export const ENVIRONMENT_NAMES = [
  "AUTO_ROUTER_CONFIG",
  "AUTO_ROUTER_LOG_DIR",
  "AUTO_ROUTER_REDIS_URL",
  "AUTO_ROUTER_MACHINE",
  "AUTO_ROUTER_TOKEN",
  "AUTO_ROUTER_GATEWAY_TOKEN",
  "AUTO_ROUTER_PI_DIR",
  "AUTO_ROUTER_FROM_SOURCE",
  "AUTO_ROUTER_UVI",
  "AUTO_ROUTER_UVI_HARD",
  "AUTO_ROUTER_SHADOW",
  "AUTO_ROUTER_BREAKER",
  "AUTO_ROUTER_BREAKER_RATIO",
  "AUTO_ROUTER_BREAKER_MINIMUM_CALLS",
  "AUTO_ROUTER_BREAKER_WINDOW_MS",
  "AUTO_ROUTER_BREAKER_BREAK_MS",
  "AUTO_ROUTER_BREAKER_MAX_BREAK_MS",
  "AUTO_ROUTER_BREAKER_PROBE_TIMEOUT_MS",
  "AUTO_ROUTER_ANTHROPIC_USAGE_URL",
  "AUTO_ROUTER_CODEX_USAGE_URL",
  "AUTO_ROUTER_GEMINI_QUOTA_URL",
] as const;

const ON = new Set(["1", "true", "on", "yes"]);
const OFF = new Set(["0", "false", "off", "no"]);

/** A switch's value: on, off, or not set (unset or empty); `problem` when the text is neither. */
export function readSwitch(name: string, text: string | undefined): { on?: boolean; problem?: string } {
  const value = text?.trim().toLowerCase();
  if (!value) return {};
  if (ON.has(value)) return { on: true };
  if (OFF.has(value)) return { on: false };
  return { problem: `${name}=${JSON.stringify(text)} is not used: expected 0 (off) or 1 (on)` };
}

/** The switches read by plugins without a warning channel of their own (the breaker's warns itself). */
const SWITCHES = ["AUTO_ROUTER_UVI", "AUTO_ROUTER_UVI_HARD", "AUTO_ROUTER_SHADOW"] as const;

/** What in the environment is not used, one line each: switches of another value, names nothing reads. */
export function environmentProblems(processEnv: Record<string, string | undefined>): string[] {
  const switches = SWITCHES.flatMap((name) => readSwitch(name, processEnv[name]).problem ?? []);
  return [...switches, ...unknownEnvironmentNames(processEnv)];
}

/** One line per AUTO_ROUTER_* variable nothing reads, with the name it was probably meant to be. */
export function unknownEnvironmentNames(processEnv: Record<string, string | undefined>): string[] {
  const known: readonly string[] = ENVIRONMENT_NAMES;
  return Object.keys(processEnv)
    .filter((name) => name.startsWith("AUTO_ROUTER_") && !known.includes(name))
    .sort()
    .map((name) => {
      const meant = closestWord(name, known, 3);
      return `${name} is set but not read by pi-auto-router${meant ? `; did you mean ${meant}?` : ""}`;
    });
}
