// pi-ai keeps one api registry per process, keyed by api name, and pi registers a provider's stream function there
// under the provider's api. Two pi sessions open in one process (an SDK app) that both registered "auto-router" sent
// the first session's requests through the second session's router (its routes, state and event log). Each live
// extension instance therefore claims its own api name: the first "auto-router", as before, any other open at the
// same time "auto-router-<n>". A session's end frees its name, so pi's /reload registers the same one again.

const LIVE = Symbol.for("pi-auto-router.live-api-names");

type Globals = { [LIVE]?: Map<string, Set<number>> };

export interface ApiName {
  readonly name: string;
  release(): void;
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
  return {
    name: number === 1 ? base : `${base}-${number}`,
    release: () => void live.delete(number),
  };
}
