// One /auto-router command over a table of subcommands: parsing, completion, unknown-subcommand errors.
import type { CommandDeps, CommandOutput, CompletionItem, Subcommand } from "./command-types.ts";
import { clearCommand, explainCommand, reloadCommand, resetCommand } from "./admin-commands.ts";
import { aliasesCommand, resolveCommand, testResolveCommand } from "./alias-commands.ts";
import { modelsCommand, searchCommand } from "./catalogue-commands.ts";
import { rulesCommand, shortcutsCommand } from "./reference-commands.ts";
import { listCommand, showCommand, statusCommand } from "./route-commands.ts";
import { switchCommand } from "./switch-command.ts";
import { closestKey } from "../config/key-suggestions.ts";
import { wrapLine } from "../ui/listing-widget.ts";

/** The built-in subcommands; plugins add theirs (budget, balance, circuit, uvi, rate, shadow, ...) after these. */
export const SUBCOMMANDS: Subcommand[] = [
  statusCommand,
  switchCommand,
  listCommand,
  showCommand,
  searchCommand,
  aliasesCommand,
  resolveCommand,
  testResolveCommand,
  modelsCommand,
  explainCommand,
  shortcutsCommand,
  rulesCommand,
  reloadCommand,
  resetCommand,
  clearCommand,
];

/** Splits on white space, keeping "quoted words" together; a quote left open takes the rest of the text. */
export function splitArguments(text: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)(?:"|$)|'([^']*)(?:'|$)|(\S+)/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) words.push(match[1] ?? match[2] ?? match[3]!);
  return words;
}

/** The widest a help line gets where nothing wraps it to the display (print mode): it fits a 120-column terminal. */
export const HELP_COLUMNS = 116;

/**
 * One line per subcommand. With `columns`, a description too long for them continues under itself, broken between
 * words; without, lines stay whole for a display that wraps them to its own width (the TUI's listing does, under
 * the description's column).
 */
export function helpText(subcommands: Subcommand[] = SUBCOMMANDS, columns?: number): string {
  const width = Math.max(...subcommands.map((s) => s.usage.length));
  const lines = subcommands.map((s) => `  ${s.usage.padEnd(width)}  ${s.description}`);
  return [
    "/auto-router subcommands:",
    ...(columns === undefined ? lines : lines.flatMap((line) => wrapLine(line, columns))),
  ].join("\n");
}

/** `help` lists the table it is in, the plugins' subcommands included: it is added where the whole table is known. */
export function withHelp(subcommands: Subcommand[]): Subcommand[] {
  if (subcommands.some((s) => s.name === "help")) return subcommands;
  const table: Subcommand[] = [
    ...subcommands,
    {
      name: "help",
      usage: "help [subcommand]",
      description: "This list of the subcommands, or one subcommand's usage",
      maxArguments: 1,
      complete: (prefix) =>
        table
          .filter((s) => s.name.startsWith(prefix))
          .map((s) => ({ value: s.name, label: s.name, description: s.description })),
      async run(args, _deps, output) {
        const [named] = args;
        if (named === undefined) return output.info(helpText(table, output.wrapsLines ? undefined : HELP_COLUMNS));
        const subcommand = table.find((s) => s.name === named);
        if (subcommand) return output.info(usageText(subcommand));
        const near = closestKey(
          named,
          table.map((s) => s.name),
        );
        output.error(
          `help: unknown subcommand "${named}"${near ? `; did you mean "${near}"?` : ""} (subcommands: ${table.map((s) => s.name).join(", ")})`,
        );
      },
    },
  ];
  return table;
}

/** Words asking for a subcommand's usage in place of its arguments (`/auto-router switch --help`). */
const HELP_FLAGS = new Set(["--help", "-h"]);

/** One subcommand's usage and what it does: `help <subcommand>` and `<subcommand> --help`. */
export function usageText(subcommand: Subcommand): string {
  return `usage: /auto-router ${subcommand.fullUsage ?? subcommand.usage}\n${subcommand.description}`;
}

/** The refusal of words past the most `subcommand` takes (its `maxArguments`); undefined when they are within it. */
export function extraArgumentsError(subcommand: Subcommand, args: string[]): string | undefined {
  const limit = subcommand.maxArguments;
  const action = args[0] ?? "";
  // Own keys only: a first word such as "constructor" is no action.
  const most = typeof limit === "number" ? limit : limit && Object.hasOwn(limit, action) ? limit[action] : undefined;
  if (most === undefined || args.length <= most) return undefined;
  return `${subcommand.name}: unexpected "${args.slice(most).join(" ")}"\nusage: /auto-router ${subcommand.fullUsage ?? subcommand.usage}`;
}

/**
 * The words a failure names: the subcommand and the actions typed after it (`state push`, `balance floor`), up to the
 * first word that is none (a route, an amount, a flag). A subcommand's actions are the plain words its usage spells
 * outside `<placeholders>`, so every subcommand's failure says what was done without a list of its own.
 */
export function commandWords(subcommand: Subcommand, args: string[]): string {
  const spelled = subcommand.usage.replace(/<[^>]*>/g, " ").split(/[\s[\]|]+/);
  const actions = new Set(spelled.slice(1).filter((word) => /^[a-z][a-z-]*$/.test(word)));
  const end = args.findIndex((word) => !actions.has(word));
  return [subcommand.name, ...args.slice(0, end === -1 ? args.length : end)].join(" ");
}

export async function runCommand(
  text: string,
  deps: CommandDeps,
  output: CommandOutput,
  subcommands: Subcommand[] = SUBCOMMANDS,
): Promise<void> {
  const [typed = "status", ...args] = splitArguments(text);
  const name = HELP_FLAGS.has(typed) ? "help" : typed;
  const table = withHelp(subcommands);
  const subcommand = table.find((s) => s.name === name);
  if (!subcommand) {
    const near = closestKey(
      name,
      table.map((s) => s.name),
    );
    // An error is a notification, never a listing: wrapped here to the terminal, each description under its column.
    const list = helpText(table, output.wrapsLines ? output.errorColumns : HELP_COLUMNS);
    return output.error(`unknown subcommand "${name}"${near ? `; did you mean "${near}"?` : ""}\n${list}`);
  }
  // `--help` (or `-h`) alone after a subcommand is never its argument (a route, a search query, a rating).
  if (args.length === 1 && HELP_FLAGS.has(args[0]!)) return output.info(usageText(subcommand));
  const extra = extraArgumentsError(subcommand, args);
  if (extra) return output.error(extra);
  // The list reads no state: it does not wait for the team store.
  if (name === "help") return subcommand.run(args, deps, output);
  try {
    // A command that is the first thing a process does (`pi -p "/auto-router budget"`) shows the team's state, not
    // the local view from before the first sync (bounded: an unreachable team store answers on the local view).
    await deps.services.backend.ready();
    await subcommand.run(args, deps, output);
  } catch (error) {
    output.error(
      `/auto-router ${commandWords(subcommand, args)} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * pi passes the whole argument text before the cursor; a chosen value replaces all of it, as is (pi adds a space only
 * after a command's own name). A subcommand's name is offered with the space after it, as pi completes `/auto-router `
 * itself, so what is typed next is its argument (and is completed as one).
 */
export function completeCommand(
  prefix: string,
  deps: CommandDeps,
  subcommands: Subcommand[] = SUBCOMMANDS,
): CompletionItem[] | null {
  const table = withHelp(subcommands);
  const space = prefix.indexOf(" ");
  if (space === -1) {
    const items = table
      .filter((s) => s.name.startsWith(prefix))
      .map((s) => ({ value: `${s.name} `, label: s.name, description: s.description }));
    return items.length ? items : null;
  }
  const name = prefix.slice(0, space);
  const rest = prefix.slice(space + 1);
  const subcommand = table.find((s) => s.name === name);
  const items = subcommand?.complete?.(rest, deps) ?? [];
  // Followed by a space like a subcommand name, so the next word is not glued to it (a last one's space is harmless).
  const spaced = (value: string) => (value.endsWith(" ") ? value : `${value} `);
  return items.length ? items.map((item) => ({ ...item, value: `${name} ${spaced(item.value)}` })) : null;
}
