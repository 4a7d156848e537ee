// A request whose every target rests waits for the first one back when it is back within failover.cooldownWaitMs:
// the wait is shown on the status line second by second, logged as a `wait` event and noted for explain.
import { restKey } from "../routing/rest-key.ts";
import type { SkippedTarget } from "../routing/types.ts";
import type { RequestEnvironment } from "./request-environment.ts";
import { addNote, type RequestState } from "./request-state.ts";
import { COUNTDOWN_TICK_MS, cooldownWaitOf, waitNoteText } from "./wait-for-reset.ts";

/**
 * Waits until `cooling` (a target of `routeId` skipped for a cooldown or an open breaker) is back. `text` is the
 * status line's first word on it. False when the request was aborted meanwhile.
 */
export async function waitForCoolingTarget(
  env: RequestEnvironment,
  state: RequestState,
  routeId: string,
  cooling: SkippedTarget & { until: number },
  text: string,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const waitMs = cooling.until - env.clock.now();
  env.report.status.onWaiting(state.routeId, cooling.key, cooling.until, text);
  // Logged and noted like a wait for a reset (a provider's named reset this close takes this path, not that one).
  const waitingFor = cooldownWaitOf(
    cooling,
    env.books.cooldowns.active(env.clock.now())[restKey(env.routing.config().routes, routeId, cooling.key)],
  );
  env.report.record(state.requestId, state.routeId, "wait", {
    reason: waitingFor.reason,
    target: cooling.key,
    until: cooling.until,
    waitMs,
  });
  const waitStart = env.clock.now();
  const waitedNote = (verb: string) =>
    addNote(env.report, state, waitNoteText(verb, env.clock.now() - waitStart, cooling.key, waitingFor));
  // In one-second ticks, each showing the seconds left: one long sleep left the status line's count frozen.
  // Bounded by the ticks the wait needs, so a clock that does not move (a test's frozen Date) cannot hold it.
  const until = cooling.until + 5;
  let ticks = Math.ceil((waitMs + 5) / COUNTDOWN_TICK_MS);
  for (let left = until - env.clock.now(); left > 0 && ticks-- > 0; left = until - env.clock.now()) {
    if (!(await env.clock.sleep(Math.min(COUNTDOWN_TICK_MS, left), signal))) {
      waitedNote("stopped after waiting");
      return false;
    }
    env.report.status.onWaiting(state.routeId, cooling.key, cooling.until);
  }
  if (signal?.aborted) {
    waitedNote("stopped after waiting");
    return false;
  }
  waitedNote("waited");
  return true;
}
