// Where command output goes. In the TUI and RPC modes: ctx.ui.notify (RPC shows it as an extension_ui_request line);
// a listing longer than a notification can hold (or, in the TUI, holding a table wider than the terminal) goes into a
// widget above the editor instead (RPC sends that as a `setWidget` extension_ui_request), with a short notification
// pointing at it. The TUI gets the widget as a component, because pi cuts a string[] widget after 10 lines, and the
// component fits tables to the terminal. Newer pi's TUI clips what does not fit in the dock around the editor, and
// shows an info notification in place of the last one: there every output of several lines, long or short, goes into
// the chat instead (`listing`, see ui/listing-entry.ts). In print and JSON modes pi owns stdout and every ctx.ui
// method is a no-op, so text goes to process.stdout (pi redirects an extension's stdout to stderr there, keeping its
// own stdout clean); a command that fails there makes pi exit 1, so a script sees it.
import { redactText } from "../state/redact.ts";
import type { ListingSink } from "../ui/listing-entry.ts";
import { hasTableWiderThan, listingWidget, type ListingComponent } from "../ui/listing-widget.ts";
import type { CommandOutput } from "./command-types.ts";
import { plural } from "../analytics/text-format.ts";

export const WIDGET_KEY = "auto-router";
/** Longer texts go into the widget: a notification of more lines is cut off or scrolls away in the TUI. */
export const MAX_NOTIFY_LINES = 12;

interface UiLike {
  notify(message: string, level?: "info" | "warning" | "error"): void;
  setWidget?(key: string, content: string[] | (() => ListingComponent) | undefined): void;
  select?(title: string, options: string[]): Promise<string | undefined>;
  confirm?(title: string, message: string): Promise<boolean>;
}

/** The short notification that stands for a listing shown in the widget. */
export function widgetNotice(lines: string[]): string {
  return `${lines[0]} … (${plural(lines.length, "line")} shown above the editor; /auto-router clear hides them)`;
}

// Command texts echo what the user typed (a provider name, a rating reason) and what providers said; a key pasted
// into either must not reach the screen, stderr or an RPC client, so every text is redacted on its way out.
// `listing` shows a long listing in the chat (newer pi's TUI); without it, long listings go into the widget.
export function commandOutput(context: { hasUI: boolean; ui: UiLike }, listing?: ListingSink): CommandOutput {
  if (!context.hasUI) {
    const write = (text: string) => process.stdout.write(`${redactText(text)}\n`);
    const error = (text: string) => {
      write(text);
      // pi sets the exit code only when its own print run fails (never back to 0), so this one stands.
      process.exitCode = 1;
    };
    return { info: write, warn: write, error };
  }
  const ui = context.ui;
  // The TUI draws on this process's terminal (an RPC client has none): pi's text pads one column on each side.
  const columns = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns - 2 : undefined;
  const show = (raw: string, level: "info" | "warning") => {
    const text = redactText(raw);
    const lines = text.split("\n");
    // A notification wraps a table wider than the terminal into a staircase; the listing fits it to the width.
    const long = lines.length > MAX_NOTIFY_LINES || (columns !== undefined && hasTableWiderThan(lines, columns));
    // In the chat, any output of several lines is an entry: a short report shown as a notification was gone with the
    // next command's one-line answer, and from the session file. A one-line answer stays a notification, as pi's own.
    if (listing && lines.length > 1) {
      listing(lines, level);
    } else if (long && ui.setWidget) {
      // RPC clients only receive string[] widgets (pi ignores a component there), and the TUI replaces those lines
      // with the component at once: the same two calls serve both without asking which mode pi runs in.
      ui.setWidget(WIDGET_KEY, lines);
      ui.setWidget(WIDGET_KEY, listingWidget(lines));
      ui.notify(widgetNotice(lines), level);
    } else {
      ui.notify(text, level);
    }
  };
  return {
    info: (text) => show(text, "info"),
    warn: (text) => show(text, "warning"),
    // An error is never tucked away in the widget: the whole text (e.g. an unknown subcommand and the list) is shown.
    error: (text) => ui.notify(redactText(text), "error"),
    select: ui.select ? (title, options) => ui.select!(redactText(title), options) : undefined,
    confirm: ui.confirm ? (title, message) => ui.confirm!(redactText(title), redactText(message)) : undefined,
    // With listings in the chat there is no widget to hide (and the chat keeps what it shows).
    clear: ui.setWidget && !listing ? () => ui.setWidget!(WIDGET_KEY, undefined) : undefined,
    wrapsLines: true,
    errorColumns: columns,
  };
}
