// A word that must be one of a fixed set (a scope, an action, a flag) and is not: the refusal names the word, the one
// probably meant when one is close in spelling, and the usage, as an unknown subcommand's does
// (`reset: unknown scope "cooldown"; did you mean "cooldowns"?`).
import { closestKey } from "../config/key-suggestions.ts";

/** `usage`: the whole usage line after `usage: ` (`/auto-router reset [cooldowns|...]`). */
export function unknownWordText(
  subcommand: string,
  what: string,
  word: string,
  known: readonly string[],
  usage: string,
): string {
  const near = closestKey(word, known);
  return `${subcommand}: unknown ${what} "${word}"${near ? `; did you mean "${near}"?` : ""}\nusage: ${usage}`;
}

/**
 * The action `word` names: itself, or for a subcommand that switches something, `on` / `off` as its `enable` /
 * `disable` (the words `budget set ... off` and the routes file's switches use).
 */
export function switchAction(word: string, actions: readonly string[]): string {
  const meant = word === "on" ? "enable" : word === "off" ? "disable" : undefined;
  return meant && actions.includes(meant) ? meant : word;
}
