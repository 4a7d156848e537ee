// Where command output goes. In the TUI and RPC modes: ctx.ui.notify (RPC shows it as an extension_ui_request line).
// In print and JSON modes pi owns stdout and every ctx.ui method is a no-op, so text goes to process.stdout (pi
// redirects an extension's stdout to stderr there, keeping its own stdout clean).
import type { CommandOutput } from "./command-types.ts";

interface UiLike {
  notify(message: string, level?: "info" | "warning" | "error"): void;
  select?(title: string, options: string[]): Promise<string | undefined>;
  confirm?(title: string, message: string): Promise<boolean>;
}

export function commandOutput(context: { hasUI: boolean; ui: UiLike }): CommandOutput {
  if (!context.hasUI) {
    const write = (text: string) => process.stdout.write(`${text}\n`);
    return { info: write, warn: write, error: write };
  }
  return {
    info: (text) => context.ui.notify(text, "info"),
    warn: (text) => context.ui.notify(text, "warning"),
    error: (text) => context.ui.notify(text, "error"),
    select: context.ui.select ? (title, options) => context.ui.select!(title, options) : undefined,
    confirm: context.ui.confirm ? (title, message) => context.ui.confirm!(title, message) : undefined,
  };
}
