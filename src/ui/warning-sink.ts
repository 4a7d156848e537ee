// Where the extension's warnings go: a notification when pi has a UI, stderr otherwise. Warnings raised before any
// session exists (a broken routes file at load) wait for the first session; a run that never starts one, such as
// `pi --list-models`, gets them on stderr as the process exits instead of losing them.
import type { NoticeLevel } from "../runtime/services.ts";
import { registerExitFlush } from "../state/exit-flush.ts";
import { redactText } from "../state/redact.ts";

export interface WarningContext {
  hasUI: boolean;
  ui: { notify(message: string, level?: "info" | "warning" | "error"): void };
}

/**
 * pi's TUI starts a warning notification with "Warning: " and an error with "Error: ". A text that names its level
 * itself (config issues read "auto-router: error: <file>:8:23 ...", unknown targets "auto-router: warning: ...", as
 * they must on stderr) would read "Error: auto-router: error: ..." there: its own label is dropped from the
 * notification. A bare leading label ("warning: ...") is dropped too.
 */
export function withoutLevelLabel(text: string, level: NoticeLevel): string {
  if (level === "info") return text;
  const label = `${level}: `;
  if (text.startsWith(label)) return text.slice(label.length);
  if (text.startsWith(`auto-router: ${label}`)) return `auto-router: ${text.slice(`auto-router: ${label}`.length)}`;
  return text;
}

export class WarningSink {
  private context: WarningContext | undefined;
  private readonly pending: Array<{ text: string; level: NoticeLevel }> = [];
  /** Shown only if no session ever starts: a session re-checks with better knowledge (pi's registry). */
  private readonly provisional: string[] = [];
  private readonly said = new Set<string>();
  private unregister: (() => void) | undefined;

  constructor(private readonly stderr: (text: string) => void = (text) => void process.stderr.write(text)) {
    this.unregister = registerExitFlush({
      hasPendingWork: () => this.pending.length + this.provisional.length > 0,
      holdsLock: () => false,
      flushSync: () =>
        this.stderr(
          [...this.pending.splice(0).map((entry) => entry.text), ...this.provisional.splice(0)]
            .map((text) => `${text}\n`)
            .join(""),
        ),
    });
  }

  warn(raw: string, level: NoticeLevel = "warning"): void {
    // A key pasted where a name belongs (a provider id in the routes file) is quoted back by the warning about it.
    const text = redactText(raw);
    const context = this.context;
    if (!context) return void this.pending.push({ text, level });
    try {
      if (context.hasUI) context.ui.notify(withoutLevelLabel(text, level), level);
      else this.stderr(`${text}\n`);
    } catch {
      this.stderr(`${text}\n`); // a stale context after /reload throws
    }
  }

  /** Warns about `key` only the first time in this process's extension instance. */
  warnOnce(key: string, text: string): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.warn(text);
  }

  get hasSession(): boolean {
    return this.context !== undefined;
  }

  /** A warning for a run without a session only; dropped when a session starts. */
  warnIfNoSession(text: string): void {
    if (!this.context) this.provisional.push(redactText(text));
  }

  /** The latest context; the first one receives what waited for a session. */
  attach(context: WarningContext): void {
    this.context = context;
    this.provisional.length = 0;
    for (const entry of this.pending.splice(0)) this.warn(entry.text, entry.level);
    this.close();
  }

  close(): void {
    this.unregister?.();
    this.unregister = undefined;
  }
}
