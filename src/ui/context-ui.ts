// pi's ExtensionContext getters throw once the context is stale (a new session, /resume or /reload replaced it while
// a request was still streaming): "This extension ctx is stale after session replacement or reload". The status line
// reads the context from inside a request's attempts, where such a throw would fail the attempt and rest a healthy
// target; read through here, a stale context is neither a UI nor print mode, and the caller shows nothing.
import type { ExtensionContext } from "@mariozechner/pi-coding-agent";

export type ContextUi = "ui" | "none" | "stale";

/** Whether `ctx` shows a UI, has none (print mode: stderr), or is stale (show nothing until the next context). */
export function contextUi(ctx: Pick<ExtensionContext, "hasUI"> | undefined): ContextUi {
  if (!ctx) return "none";
  try {
    return ctx.hasUI ? "ui" : "none";
  } catch {
    return "stale";
  }
}
