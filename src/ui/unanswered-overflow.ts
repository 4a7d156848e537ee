// pi takes a context-overflow error of the model it called as its cue to compact and retry; for a route that is the
// router's "the prompt is too long for every target" refusal, or a target's overflow surfaced as the route's. When the
// recovery fails, pi's print mode prints nothing and exits 0 (pi 0.73 to 1.6, for a provider's own overflow too): a
// script would take the unanswered prompt for an empty answer. For a route the router says why on stderr and makes the
// exit status 1, as print mode does for every other error that ends a run.
import { looksLikeOverflow } from "../runtime/failure-evidence.ts";

export interface EndedMessage {
  role?: string;
  provider?: string;
  stopReason?: string;
  errorMessage?: string;
}

export class UnansweredOverflow {
  private pending: string | undefined;

  constructor(private readonly provider: string) {}

  /** Every message pi ends: an overflow error of a route is remembered until an answer comes after it. */
  onMessageEnd(message: EndedMessage): void {
    if (message.role !== "assistant") return;
    const text = message.errorMessage;
    const overflow =
      message.provider === this.provider &&
      message.stopReason === "error" &&
      text !== undefined &&
      looksLikeOverflow(text, undefined);
    this.pending = overflow ? text : undefined;
  }

  /** The overflow error that left the run's last prompt unanswered, given once. */
  take(): string | undefined {
    const text = this.pending;
    this.pending = undefined;
    return text;
  }
}

/**
 * pi's print mode and its output (`pi -p` or piped input: "text"; `--mode json`: "json"), or undefined for the TUI
 * and RPC, which stay open for the next prompt. Newer pi names its mode in ctx.mode; pi 0.73 only has the command
 * line.
 */
function printOutput(hasUI: boolean, mode: string | undefined, argv: readonly string[]): "text" | "json" | undefined {
  if (hasUI) return undefined;
  if (mode !== undefined) return mode === "print" ? "text" : mode === "json" ? "json" : undefined;
  const flag = argv.lastIndexOf("--mode");
  const value = flag < 0 ? "text" : argv[flag + 1];
  return value === "text" || value === "json" ? value : undefined;
}

/** pi's text print mode, where the exit status tells a script whether the prompt was answered. */
export const isTextPrintMode = (hasUI: boolean, mode: string | undefined, argv: readonly string[]): boolean =>
  printOutput(hasUI, mode, argv) === "text";

/** pi's print mode with either output: a single run whose exit status a script reads. */
export const isPrintMode = (hasUI: boolean, mode: string | undefined, argv: readonly string[]): boolean =>
  printOutput(hasUI, mode, argv) !== undefined;
