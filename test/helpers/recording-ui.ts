// A UI context for in-process pi sessions that records what extensions show (notifications, status lines, widgets)
// the way the TUI and RPC mode would, and answers dialogs as "cancelled" (a confirmation as `confirmAnswer` says). With it, `ctx.hasUI` is true, so command
// output arrives as notifications instead of on process.stdout (which node:test's child processes use for reports).
export interface UiNotification {
  message: string;
  level: string;
}

export interface RecordingUi {
  context: unknown;
  notifications: UiNotification[];
  statuses: Map<string, string | undefined>;
  /** Widgets by key: string-array content, as RPC mode forwards it (component factories are ignored there too). */
  widgets: Map<string, string[] | undefined>;
  /** Notification texts added since `from` (an index into notifications), joined by newlines. */
  textSince(from: number): string;
  /** What a confirmation dialog answers (default false: cancelled). */
  confirmAnswer: boolean;
  /** The choices each select dialog offered (each answers as cancelled). */
  selections: Array<{ title: string; options: string[] }>;
}

export function createRecordingUi(): RecordingUi {
  const notifications: UiNotification[] = [];
  const statuses = new Map<string, string | undefined>();
  const widgets = new Map<string, string[] | undefined>();
  const selections: RecordingUi["selections"] = [];
  const known: Record<string, unknown> = {
    notify: (message: string, level = "info") => void notifications.push({ message, level }),
    setStatus: (key: string, text: string | undefined) => void statuses.set(key, text),
    setWidget: (key: string, content: unknown) =>
      void (
        typeof content !== "function" && widgets.set(key, Array.isArray(content) ? content.map(String) : undefined)
      ),
    select: async (title: string, options: string[]) => {
      selections.push({ title, options: [...options] });
      return undefined;
    },
    confirm: async () => ui.confirmAnswer,
    input: async () => undefined,
    editor: async () => undefined,
    custom: async () => undefined,
    onTerminalInput: () => () => {},
  };
  // Any other method (setTitle, setFooter, setWorkingMessage, ...) differs between pi versions: accept and ignore.
  const context = new Proxy(known, {
    get: (target, property) =>
      typeof property === "string" && property in target ? target[property] : () => undefined,
  });
  const ui: RecordingUi = {
    context,
    notifications,
    statuses,
    widgets,
    textSince: (from) =>
      notifications
        .slice(from)
        .map((n) => n.message)
        .join("\n"),
    confirmAnswer: false,
    selections,
  };
  return ui;
}
