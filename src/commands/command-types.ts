// The /auto-router subcommand table: each entry parses its own arguments, completes them, and prints through
// CommandOutput, which is a notification in the TUI and plain text on stdout in print mode.
import type { RouterConfig } from "../config/schema.ts";
import type { PluginContext, RouterPlugin } from "../runtime/plugin.ts";
import type { UnknownTarget } from "../config/unknown-targets.ts";
import type { RouterRuntime } from "../runtime/router-runtime.ts";
import type { Services } from "../runtime/services.ts";

export interface CommandOutput {
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** A picker when a UI exists; undefined otherwise (print/JSON mode) or when cancelled. */
  select?(title: string, options: string[]): Promise<string | undefined>;
  confirm?(title: string, message: string): Promise<boolean>;
  /** Removes a listing shown in the widget (TUI and RPC); undefined where there is none. */
  clear?(): void;
  /**
   * True where what is shown is wrapped to the display's width (the TUI, an RPC client): a text is then given with
   * its lines whole, as wrapping it to a width of its own first would wrap it twice. Print mode shows it as written.
   */
  wrapsLines?: boolean;
  /**
   * The columns an error notification's text gets in pi's TUI (the terminal's, less pi's padding), where known: pi
   * wraps an error's lines without a hanging indent, so a table in one is wrapped to this width first.
   */
  errorColumns?: number;
}

export interface CommandDeps {
  runtime: RouterRuntime;
  services: Services;
  config(): RouterConfig;
  /** Re-reads the routes file and re-registers the virtual models; the reload reports the file's issues itself. */
  reload(): string[];
  /** Switches pi's model to auto-router/<route> or provider/model; returns what happened. */
  switchModel(provider: string, modelId: string): Promise<boolean>;
  now(): number;
  /** Targets whose provider or model pi does not know, with the closest known id. */
  unknownTargets(): UnknownTarget[];
  /** Every warning pi's status line shows or folds into "+N more" (pi's extension only; the gateway has no line). */
  statusLineWarnings?(): string[];
}

export interface CompletionItem {
  value: string;
  label: string;
  description?: string;
}

export interface Subcommand {
  name: string;
  /** The short form `help` lists, e.g. `balance [show|fetch|floor]`. */
  usage: string;
  /** The whole grammar its mistakes are answered with when `usage` leaves out part of it (the dispatcher's too). */
  fullUsage?: string;
  description: string;
  /**
   * The most words it takes after its name; the dispatcher refuses more with its usage before it runs, so no word is
   * silently ignored. Per first word (an action: `show`, `reset`) the most counting that one; a first word not listed
   * is the subcommand's own to refuse. Unset where the words are free text (rate's reason, search's query) or each is
   * checked by the subcommand (health's flags).
   */
  maxArguments?: number | Readonly<Record<string, number>>;
  /** Completes the words after the subcommand name; `prefix` is the text after "<name> ". */
  complete?(prefix: string, deps: CommandDeps): CompletionItem[];
  run(args: string[], deps: CommandDeps, output: CommandOutput): Promise<void>;
}

/** A feature as index.ts wires it: the runtime's plugin hooks plus the feature's own subcommands. */
export interface FeaturePlugin extends RouterPlugin {
  subcommands?: Subcommand[];
}

export type FeaturePluginFactory = (context: PluginContext) => FeaturePlugin;
