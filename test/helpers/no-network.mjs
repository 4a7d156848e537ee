// Preloaded into a pi process (NODE_OPTIONS="--import <this file>") by a test that must stay offline where pi itself
// would go out, such as refreshing an expired OAuth token at its provider: fetch to anything but the loopback fails the
// way it does without a network, and each URL refused is appended to the file $NO_NETWORK_LOG names.
import { appendFileSync } from "node:fs";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const loopbackFetch = globalThis.fetch;

globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
  if (LOOPBACK.has(url.hostname)) return loopbackFetch(input, init);
  if (process.env.NO_NETWORK_LOG) appendFileSync(process.env.NO_NETWORK_LOG, `${url.origin}${url.pathname}\n`);
  throw new TypeError("fetch failed (no network in this test)");
};
