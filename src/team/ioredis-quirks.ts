// Two ioredis behaviours the team store works around: its console.warn lines on a password the server does not ask
// for (and on a skipped ready check), and its re-subscribe after a reconnect, whose promise it leaves unhandled.
import type { Redis, RedisOptions } from "ioredis";
import { NO_PERMISSION } from "./redis-problems.ts";

/** What ioredis writes with console.warn when the URL gives a password the server does not ask for (Redis 5; 6+). */
const PASSWORD_NOT_ASKED =
  /^\[WARN\] (?:Redis server|This Redis server's `default` user) does not require a password, but a password was supplied/;
/**
 * What ioredis writes with console.warn on each connect of a user refused INFO (`-@dangerous`, a usual restriction): it
 * skips its ready check and goes on, and so does the team store (INFO only feeds its eviction check). Nothing to fix.
 */
const READY_CHECK_SKIPPED = /^Skipping the ready check because INFO command fails: "NOPERM\b/;
const passwordNotAskedListeners = new Set<() => void>();
let consoleWarnFiltered = false;

/**
 * Calls `listener` instead of letting ioredis print its own line (raw on stderr, in the middle of pi's screen, twice
 * per connect: the command connection and the subscriber) when Redis does not ask for the password the URL gives; drops
 * its line about a skipped ready check (READY_CHECK_SKIPPED) while a listener is registered. The filter on console.warn
 * passes every other line on unchanged. Returns the function that stops the calls.
 */
export function onPasswordNotAsked(listener: () => void): () => void {
  if (!consoleWarnFiltered) {
    consoleWarnFiltered = true;
    const original = console.warn;
    console.warn = (...args: unknown[]) => {
      const text = args[0];
      if (passwordNotAskedListeners.size > 0 && typeof text === "string") {
        if (READY_CHECK_SKIPPED.test(text)) return;
        if (PASSWORD_NOT_ASKED.test(text)) {
          for (const notify of passwordNotAskedListeners) notify();
          return;
        }
      }
      original.apply(console, args);
    };
  }
  passwordNotAskedListeners.add(listener);
  return () => passwordNotAskedListeners.delete(listener);
}

/**
 * The connection that receives the other machines' change notices. It subscribes on every connect itself: ioredis'
 * own re-subscribe after a reconnect leaves its promise unhandled, so a connection lost again (or closed) before
 * Redis answered would end the process with an unhandled rejection. `onRefused`: Redis refused the channel to the
 * URL's user; `onSubscribed`: a subscribe went through (a grant since a refusal, say).
 */
export function openChangeSubscriber(
  RedisClient: typeof Redis,
  url: string,
  options: RedisOptions,
  channel: string,
  onMessage: (message: string) => void,
  onRefused: (error: Error) => void = () => undefined,
  onSubscribed: () => void = () => undefined,
): Redis {
  const subscriber = new RedisClient(url, {
    ...options,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: null,
  });
  subscriber.on("error", () => undefined); // reported once through the command connection
  subscriber.on(
    "ready",
    () =>
      void subscriber.subscribe(channel).then(onSubscribed, (error: unknown) => {
        if (error instanceof Error && NO_PERMISSION.test(error.message)) onRefused(error);
      }),
  );
  subscriber.on("message", (_channel: string, message: string) => onMessage(message));
  return subscriber;
}
