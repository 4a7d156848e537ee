// pi-ai keeps one api registry per process, keyed by api name, and pi registers a provider's stream function there
// under the provider's api. Two pi sessions open in one process (an SDK app) that both registered "auto-router" sent
// the first session's requests through the second session's router (its routes, state and event log). Each live
// extension instance therefore claims its own api name: the first "auto-router", as before, any other open at the
// same time "auto-router-<n>". A session's end frees its name, so pi's /reload registers the same one again.
// pi 0.73's ModelRegistry.refresh() (another session's, when an extension unregisters a provider) empties that
// registry and registers only its own session's providers again: `lost()` tells, so the session registers again.

const LIVE = Symbol.for("pi-auto-router.live-api-names");

type Globals = { [LIVE]?: Map<string, Set<number>> };

export interface ApiName {
  readonly name: string;
  release(): void;
  /** After a registration: whether pi-ai's process-wide registry holds the name (pi 0.73; newer pi keeps its own). */
  registered(inProcessRegistry: boolean): void;
  /** It was in the process-wide registry and is gone. */
  lost(lookup: (name: string) => unknown): boolean;
}

export function claimApiName(base: string): ApiName {
  const globals = globalThis as Globals;
  // On globalThis, not in this module: pi may load the extension's bundle once per session.
  globals[LIVE] ??= new Map();
  let live = globals[LIVE].get(base);
  if (!live) globals[LIVE].set(base, (live = new Set()));
  let number = 1;
  while (live.has(number)) number++;
  live.add(number);
  const name = number === 1 ? base : `${base}-${number}`;
  let inProcessRegistry = false;
  return {
    name,
    release: () => void live.delete(number),
    registered: (held) => {
      inProcessRegistry = held;
    },
    lost: (lookup) => inProcessRegistry && lookup(name) === undefined,
  };
}
