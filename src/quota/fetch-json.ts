// The one HTTP helper for provider APIs (balances, subscription usage): fetch a JSON document with a timeout per try
// and a bounded number of retries with exponential backoff (a try that timed out is not retried). Errors never contain a key or token, nor the response
// body (it may echo request details): only the URL's origin+path and the status.
import { abortableSleep } from "../runtime/abortable-sleep.ts";

export const BALANCE_TIMEOUT_MS = 5_000;
export const BALANCE_RETRIES = 2;
export const BALANCE_BACKOFF_MS = 250;

export type FetchLike = (
  url: string,
  init: { method?: string; body?: string; headers: Record<string, string>; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface FetchJsonOptions {
  headers: Record<string, string>;
  method?: "GET" | "POST";
  body?: string;
  /** The caller's own cancellation (e.g. a cache closing); combined with the per-try timeout. */
  signal?: AbortSignal;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  fetch?: FetchLike;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The wait between tries is an ordinary (ref'd) timer, like each try's timeout: a command that awaits the answer
 * (`pi -p "/auto-router balance fetch"`) must keep the process alive until it has one, or Node exits in the middle of
 * the wait and the command prints nothing. A background fetch is stopped through `signal` when its owner closes.
 */
const defaultSleep = (ms: number, signal: AbortSignal | undefined) => abortableSleep(ms, signal).then(() => undefined);

/** Only client errors other than 408/429 are final; everything else (5xx, network) is retried, but not a timeout. */
const isFinalStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "the endpoint";
  }
}

/**
 * A connection the server closed while the client still held it for reuse (keep-alive): the request never reached the
 * server. undici expires idle connections on its own coarse clock, so under load it can hand out one a server already
 * closed; any client of a keep-alive API meets this now and then, and one try on a new connection is the cure.
 */
const STALE_CONNECTION_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);
const isStaleConnection = (error: unknown) =>
  STALE_CONNECTION_CODES.has(String((error as { cause?: { code?: unknown } } | undefined)?.cause?.code));

/** Why a request got no answer, as a short code ("ENOTFOUND", "ECONNREFUSED"): fetch's own message is "fetch failed". */
function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string" && cause.message !== "") return cause.message;
  return error instanceof Error && error.message !== "" ? error.message : "network error";
}

export async function fetchJsonWithRetry(url: string, options: FetchJsonOptions): Promise<unknown> {
  const fetchFunction = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const retries = options.retries ?? BALANCE_RETRIES;
  const sleep = options.sleep ?? ((ms: number) => defaultSleep(ms, options.signal));
  let lastError = "";
  // One reset connection is tried again at once and is not one of the `retries` (a source read with no retries too).
  let staleConnectionRetried = false;
  let tryAgainNow = false;
  for (let attempt = 0; attempt <= retries; attempt += 1) {
    if (attempt > 0 && !tryAgainNow) await sleep((options.backoffMs ?? BALANCE_BACKOFF_MS) * 2 ** (attempt - 1));
    tryAgainNow = false;
    if (options.signal?.aborted) break;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? BALANCE_TIMEOUT_MS);
    const relay = () => controller.abort();
    options.signal?.addEventListener("abort", relay, { once: true });
    try {
      const response = await fetchFunction(url, {
        method: options.method,
        body: options.body,
        headers: options.headers,
        signal: controller.signal,
      });
      if (response.ok) {
        try {
          return await response.json();
        } catch {
          // A login page or a proxy's HTML with a 200: say so, not "SyntaxError reaching ...".
          lastError = `the answer from ${describeUrl(url)} (HTTP ${response.status}) is not JSON`;
          continue;
        }
      }
      lastError = `HTTP ${response.status} from ${describeUrl(url)}`;
      if (isFinalStatus(response.status)) break;
    } catch (error) {
      if (options.signal?.aborted) {
        lastError = `cancelled while reaching ${describeUrl(url)}`;
        break;
      }
      if (controller.signal.aborted) {
        // A server that held a try for the whole timeout holds the next one too: a command awaiting the answer
        // (`/auto-router balance fetch`) would wait three timeouts for the same news.
        lastError = `timed out after ${options.timeoutMs ?? BALANCE_TIMEOUT_MS} ms (${describeUrl(url)})`;
        break;
      }
      lastError = `could not reach ${describeUrl(url)} (${networkCause(error)})`;
      if (isStaleConnection(error) && !staleConnectionRetried) {
        staleConnectionRetried = true;
        tryAgainNow = true;
        attempt -= 1;
      }
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", relay);
    }
  }
  throw new Error(lastError || `cancelled before reaching ${describeUrl(url)}`);
}
