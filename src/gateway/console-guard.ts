// Libraries in the gateway's process write to the console themselves: the openai SDK (pi-ai's Chat Completions path)
// prints an upstream event it cannot parse whole with console.error, key and prompt text included. The gateway logs
// no bodies and no credentials, so while it runs each console call becomes one of its stderr lines: the call's
// message (its first argument, when a text) redacted, without the data the other arguments carry.
import { redactText } from "../state/redact.ts";

const METHODS = ["error", "warn", "log", "info", "debug"] as const;

/** One console call as a line: its message, redacted; an Error as its name and message; any other data left out. */
export function consoleLine(args: readonly unknown[]): string {
  const [first, ...rest] = args;
  const message =
    typeof first === "string"
      ? first
      : first instanceof Error
        ? `${first.name}: ${first.message}`
        : `(${first === null ? "null" : typeof first} not logged)`;
  const left = rest.length > 0 ? ` (${rest.length === 1 ? "its data" : `${rest.length} values`} not logged)` : "";
  return `${redactText(message)}${left}`;
}

/** Sends every console call to `line` as consoleLine makes it; returns the function that puts the console back. */
export function guardConsole(line: (text: string) => void): () => void {
  const originals = METHODS.map((method) => [method, console[method]] as const);
  for (const method of METHODS) console[method] = (...args: unknown[]) => line(consoleLine(args));
  return () => {
    for (const [method, original] of originals) console[method] = original;
  };
}
