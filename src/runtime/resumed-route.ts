// A resumed session goes back to its route. The router stamps each answer with the target that served it (so the
// next turn can replay that target's thinking), and pi, when it continues a session (`pi --continue`, `--session`),
// takes the model of the last answer: the session would go on that one target, with no routing and no failover.
// The route is the session's last model change when nothing but answers came after it.

export interface SessionEntryLike {
  type: string;
  provider?: string;
  modelId?: string;
  message?: { role?: string; provider?: string; model?: string };
}

export interface ModelRef {
  provider: string;
  id: string;
}

/** Why pi runs another model than the route: it took the last answer's target, or could not and took its default. */
export type ResumedOn = "last-answer" | "default";

/**
 * The route to put back: the branch's last model change named `routerProvider`, every answer after it came from a
 * target, and pi now runs the model of the last of them (which it took from that answer, not from the user), or pi
 * could not run that target (`restorable` says no: it is gone or has no credentials) and started on its default.
 */
export function routeToRestore(
  branch: readonly SessionEntryLike[],
  current: ModelRef | undefined,
  routerProvider: string,
  restorable: (provider: string, id: string) => boolean = () => true,
): { route: string; resumedOn: ResumedOn; lastAnswer: ModelRef } | undefined {
  if (!current || current.provider === routerProvider) return undefined;
  let route: string | undefined;
  let lastAnswer: { provider?: string; model?: string } | undefined;
  for (const entry of branch) {
    if (entry.type === "model_change") {
      route = entry.provider === routerProvider ? entry.modelId : undefined;
      lastAnswer = undefined;
    } else if (entry.type === "message" && entry.message?.role === "assistant") lastAnswer = entry.message;
  }
  if (!route || !lastAnswer?.provider || !lastAnswer.model) return undefined;
  const answered = { provider: lastAnswer.provider, id: lastAnswer.model };
  if (answered.provider === current.provider && answered.id === current.id)
    return { route, resumedOn: "last-answer", lastAnswer: answered };
  return restorable(answered.provider, answered.id) ? undefined : { route, resumedOn: "default", lastAnswer: answered };
}

/** `--model`, `--provider` (or `--models`) on pi's command line: the user chose the model of this run themselves. */
export function modelChosenOnCommandLine(argv: readonly string[]): boolean {
  return argv.some((arg) => /^--(?:model|provider|models)(?:=|$)/.test(arg));
}

export function restoredRouteNotice(
  restored: { route: string; resumedOn: ResumedOn; lastAnswer: ModelRef },
  routerProvider: string,
  taken: ModelRef,
): string {
  const why =
    restored.resumedOn === "last-answer"
      ? `pi had resumed it on ${taken.provider}/${taken.id}, the target that answered last`
      : `pi could not resume it on ${restored.lastAnswer.provider}/${restored.lastAnswer.id}, the target that answered last, and had started it on ${taken.provider}/${taken.id}`;
  return `auto-router: this session continues on ${routerProvider}/${restored.route}, its route (${why})`;
}
