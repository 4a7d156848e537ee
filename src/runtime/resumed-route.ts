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

/**
 * The route to put back: the branch's last model change named `routerProvider`, every answer after it came from a
 * target, and pi now runs the model of the last of them (which it took from that answer, not from the user).
 */
export function routeToRestore(
  branch: readonly SessionEntryLike[],
  current: ModelRef | undefined,
  routerProvider: string,
): string | undefined {
  if (!current || current.provider === routerProvider) return undefined;
  let route: string | undefined;
  let lastAnswer: { provider?: string; model?: string } | undefined;
  for (const entry of branch) {
    if (entry.type === "model_change") {
      route = entry.provider === routerProvider ? entry.modelId : undefined;
      lastAnswer = undefined;
    } else if (entry.type === "message" && entry.message?.role === "assistant") lastAnswer = entry.message;
  }
  if (!route || !lastAnswer) return undefined;
  return lastAnswer.provider === current.provider && lastAnswer.model === current.id ? route : undefined;
}

/** `--model`, `--provider` (or `--models`) on pi's command line: the user chose the model of this run themselves. */
export function modelChosenOnCommandLine(argv: readonly string[]): boolean {
  return argv.some((arg) => /^--(?:model|provider|models)(?:=|$)/.test(arg));
}

export function restoredRouteNotice(route: string, routerProvider: string, taken: ModelRef): string {
  return `auto-router: this session continues on ${routerProvider}/${route}, its route (pi had resumed it on ${taken.provider}/${taken.id}, the target that answered last)`;
}
