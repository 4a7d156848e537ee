// Whether this code runs from the prebuilt bundle (scripts/build-extension.mjs defines AUTO_ROUTER_BUNDLE) or from
// the TypeScript sources; /auto-router status shows it, because the sources start much slower.
declare const AUTO_ROUTER_BUNDLE: boolean | undefined;

export const RUNS_FROM_BUNDLE: boolean = typeof AUTO_ROUTER_BUNDLE !== "undefined" && AUTO_ROUTER_BUNDLE === true;
