// The headers of a request the gateway sends upstream on a client's behalf (the wildcard proxy and a passthrough
// attempt): the client's own, minus hop-by-hop, client-auth and routing headers, plus the target's credentials.
import type { Api, Model } from "@mariozechner/pi-ai";
import type { IncomingHttpHeaders } from "node:http";
import { isCredentialHeaderName } from "../state/remembered-credentials.ts";

/** Headers that describe one hop, or carry the client's own credentials, cookies and routing wishes: never forwarded. */
const DROPPED_REQUEST_HEADERS = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  // `Expect: 100-continue` (curl sends it with large uploads) is answered by the gateway's own server; undici's fetch
  // refuses the header, which failed every such upload as a network error of the target.
  "expect",
  "authorization",
  "x-api-key",
  // Other providers' key headers a client may send (Gemini, Azure) and the client's cookies (a browser sends every
  // cookie of 127.0.0.1, whatever the port): never another party's.
  "x-goog-api-key",
  "api-key",
  "cookie",
  // The client's OpenAI account scope (the openai client sends them from OPENAI_ORG_ID / OPENAI_PROJECT_ID): they
  // belong to the client's key, not to the target's.
  "openai-organization",
  "openai-project",
  "x-model",
  "x-provider",
  "accept-encoding",
]);

/** The client's headers that may go upstream. */
export function forwardedHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  // The headers the client's `Connection` names are hop-by-hop too (RFC 9110 7.6.1): meant for this hop only.
  const hopByHop = new Set((incoming.connection ?? "").split(",").map((name) => name.trim().toLowerCase()));
  for (const [name, value] of Object.entries(incoming)) {
    if (
      value === undefined ||
      DROPPED_REQUEST_HEADERS.has(name) ||
      hopByHop.has(name) ||
      name.startsWith("x-auto-router-") ||
      // Any header whose name says it carries a credential (x-auth-token, anthropic-api-key, x-custom-secret, ...).
      isCredentialHeaderName(name)
    )
      continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/**
 * The header a key goes in for each API, as pi-ai's own clients send it: Anthropic's `x-api-key`, Google's
 * `x-goog-api-key` (@google/genai, for Gemini and for Vertex with an API key), Azure OpenAI's `api-key` (the openai
 * package's AzureOpenAI); `Authorization: Bearer` for every other API.
 */
export function keyHeaderName(api: Api): string {
  if (api === "anthropic-messages") return "x-api-key";
  if (api === "google-generative-ai" || api === "google-vertex") return "x-goog-api-key";
  if (api.startsWith("azure-")) return "api-key";
  return "authorization";
}

/** The target's credentials in the header its API reads, plus the provider's own headers. */
export function authHeaders(
  model: Model<Api>,
  auth: { apiKey?: string; headers?: Record<string, string | null> },
): Record<string, string> {
  const out: Record<string, string> = {};
  if (auth.apiKey) {
    const name = keyHeaderName(model.api);
    out[name] = name === "authorization" ? `Bearer ${auth.apiKey}` : auth.apiKey;
  }
  for (const [name, value] of Object.entries(auth.headers ?? {})) {
    if (value !== null && value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}
