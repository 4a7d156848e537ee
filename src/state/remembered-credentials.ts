// Credentials the router resolved itself. A self-hosted key or an Azure-style 32-hex key matches no pattern of
// redact.ts, and a provider may echo it back in an error: every key and credential header value the router resolves
// for a target is remembered here and replaced verbatim (also cut short by a few characters: shortestCredentialCut).
// This list is the redactor's one piece of state.

/** Shorter values ("ollama", "none", "x") are placeholders, and replacing them would garble ordinary text. */
export const MIN_REMEMBERED_CREDENTIAL_LENGTH = 12;
/**
 * A credential cut short (an answer that stopped inside a key it echoed, a body cut inside one, a key echoed with its
 * end changed) is one still when at most this many of its last characters are missing: what is left out of a random
 * key then no longer hides the rest. With more missing (and below MIN_REMEMBERED_CREDENTIAL_LENGTH characters) it is
 * no credential: a key's shared start (`sk-ant-api03`) is text like any other.
 */
const CUT_MISSES_AT_MOST = 16;

/** The fewest of `secret`'s first characters that count as it, cut short. */
export const shortestCredentialCut = (secret: string): number =>
  Math.min(secret.length, Math.max(MIN_REMEMBERED_CREDENTIAL_LENGTH, secret.length - CUT_MISSES_AT_MOST));
/** A bound on memory: a process resolves a handful of keys; rotating OAuth tokens add a few per hour. */
const MAX_REMEMBERED_CREDENTIALS = 256;
/** Header names whose values are credentials (Authorization, x-api-key, api-key, X-Auth-Token, cookies...). */
const CREDENTIAL_HEADER_NAME = /auth|key|token|secret|cookie|signature|password/i;

/** Whether a header of this name carries a credential (its value is a secret; a client's is never forwarded). */
export const isCredentialHeaderName = (name: string): boolean => CREDENTIAL_HEADER_NAME.test(name);
/** A value that says it is a credential whatever its header's name: an auth scheme, then one token. */
const AUTH_SCHEME_VALUE = /^\s*(?:Bearer|Basic|Token|Bot)\s+(\S+)\s*$/i;
/** A long opaque token's shortest run of letters and digits between separators (an Azure key has 32 in one). */
const MIN_OPAQUE_RUN_LENGTH = 16;
const MIN_OPAQUE_VALUE_LENGTH = 20;

/**
 * Whether a header value is a credential by its shape, whatever the header's name (`X-Custom-Bearer: Bearer ...`,
 * `X-Tenant: <32 hex>`): an auth scheme and a token, or one long opaque token, with a run of at least 16 letters and
 * digits mixed. Ordinary values (`application/json`, `2023-06-01`, `prompt-caching-2024-07-31`, a UUID, a short id,
 * a model id) are not: replacing them would garble ordinary text.
 */
export function isCredentialValue(value: string): boolean {
  if (AUTH_SCHEME_VALUE.test(value)) return true;
  const trimmed = value.trim();
  if (trimmed.length < MIN_OPAQUE_VALUE_LENGTH || /\s/.test(trimmed)) return false;
  return trimmed
    .split(/[-_./:~+=]/)
    .some((run) => run.length >= MIN_OPAQUE_RUN_LENGTH && /[A-Za-z]/.test(run) && /\d/.test(run));
}
/** Resolved credentials, oldest first: the oldest is forgotten when the bound is reached. */
const recent: string[] = [];
/** Credentials that are never forgotten (the gateway's own token). */
const pinned = new Set<string>();
/** Every remembered credential, longest first, so a value that contains another is replaced whole. */
let rememberedCredentials: string[] = [];
/** Their shortest cuts (shortestCredentialCut): text that holds none of them holds no credential. */
let rememberedCuts: string[] = [];
/** The same cuts as JSON text spells them: JSON text that holds none of them holds no credential. */
let rememberedCutsInJson: string[] = [];
/** The same credentials as they appear inside JSON text (a quote or backslash in one is escaped there). */
let rememberedInJson: string[] = [];
/** Both spellings, longest first: what an answer to a client is scrubbed of (an answer is JSON, or text). */
let answerSecrets: string[] = [];

function refresh(): void {
  rememberedCredentials = [...new Set([...pinned, ...recent])].sort((a, b) => b.length - a.length);
  rememberedCuts = rememberedCredentials.map((credential) => credential.slice(0, shortestCredentialCut(credential)));
  rememberedInJson = rememberedCredentials.map((credential) => JSON.stringify(credential).slice(1, -1));
  rememberedCutsInJson = rememberedCuts.map((cut) => JSON.stringify(cut).slice(1, -1));
  answerSecrets = [...new Set([...rememberedCredentials, ...rememberedInJson])].sort((a, b) => b.length - a.length);
}

const usable = (value: string | null | undefined): string | undefined => {
  const secret = value?.trim();
  return secret && secret.length >= MIN_REMEMBERED_CREDENTIAL_LENGTH ? secret : undefined;
};

function rememberCredential(value: string | null | undefined): void {
  const secret = usable(value);
  if (!secret || pinned.has(secret) || recent.includes(secret)) return;
  if (recent.length >= MAX_REMEMBERED_CREDENTIALS) recent.shift();
  recent.push(secret);
  refresh();
}

/** Remembers a credential for the life of the process, whatever is resolved after it (the gateway's token). */
export function pinCredential(value: string | undefined): void {
  const secret = usable(value);
  if (!secret || pinned.has(secret)) return;
  pinned.add(secret);
  refresh();
}

/**
 * Remembers a target's resolved API key and credential header values (with and without their auth scheme): a header
 * whose name says it carries a credential, or whose value is one by its shape (isCredentialValue).
 */
export function rememberCredentials(
  apiKey: string | undefined,
  headers?: Record<string, string | null | undefined>,
): void {
  rememberCredential(apiKey);
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!value || !(CREDENTIAL_HEADER_NAME.test(name) || isCredentialValue(value))) continue;
    rememberCredential(value);
    rememberCredential(/^\s*\S+\s+(\S+)\s*$/.exec(value)?.[1]);
  }
}

/**
 * Remembers the strings a target's extra body fields send under a credential's name (`api_key`, `auth_token`, any
 * string at any depth below such a field): a provider may echo its request body back as it does its headers.
 */
export function rememberBodyCredentials(body: unknown, underCredentialName = false): void {
  if (typeof body === "string") {
    if (underCredentialName) rememberCredential(body);
  } else if (Array.isArray(body)) {
    for (const item of body) rememberBodyCredentials(item, underCredentialName);
  } else if (typeof body === "object" && body !== null) {
    for (const [name, value] of Object.entries(body))
      rememberBodyCredentials(value, underCredentialName || CREDENTIAL_HEADER_NAME.test(name));
  }
}

/** Test hook: forget every remembered credential. */
export function forgetRememberedCredentials(): void {
  recent.length = 0;
  pinned.clear();
  refresh();
}

/**
 * Every remembered credential, as it is and as JSON text spells it, longest first (for the scrub of an answer to a
 * client: gateway/secret-scrub.ts). A new list whenever one is remembered: a scrub keeps the one it was made with.
 */
export const rememberedCredentialValues = (): readonly string[] => answerSecrets;

/** Whether `text` holds a remembered credential, or one cut short (shortestCredentialCut). */
export function holdsRememberedCredential(text: string): boolean {
  for (const cut of rememberedCuts) if (text.includes(cut)) return true;
  return false;
}

export function holdsRememberedCredentialInJson(text: string): boolean {
  for (const cut of rememberedCutsInJson) if (text.includes(cut)) return true;
  return false;
}

/** A URL's part before its query (split into path segments), then each query parameter and the fragment. */
const URL_PARTS = /(^|[?#&;])([^?#&;]*)/g;

/**
 * A URL with each path segment, query value or fragment that is a remembered credential percent-encoded
 * (`?token=abc%2Fdef%2B...`, a space as `%20` or `+`) replaced whole; the rest stays byte for byte (a pre-signed
 * query's signature covers its exact spelling). The credentials as they are: redact.ts.
 */
export function replaceEncodedRememberedCredentials(url: string, replacement: string): string {
  const replaced = (value: string): string => (holdsEncodedCredential(value) ? replacement : value);
  return url.replace(URL_PARTS, (_match, separator: string, part: string) => {
    if (separator === "") return part.split("/").map(replaced).join("/");
    const equals = part.indexOf("=");
    return equals === -1
      ? `${separator}${replaced(part)}`
      : `${separator}${part.slice(0, equals + 1)}${replaced(part.slice(equals + 1))}`;
  });
}

/** Whether decoding the value (with `+` as a plus, or as a form's space) gives a remembered credential. */
function holdsEncodedCredential(value: string): boolean {
  if (!/[%+]/.test(value)) return false;
  for (const spelled of [value, value.replace(/\+/g, " ")]) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(spelled);
    } catch {
      continue; // a `%` that starts no escape: not an encoded value
    }
    if (holdsRememberedCredential(decoded)) return true;
  }
  return false;
}

/** Every remembered credential as it is, longest first (for the redaction of what the router writes: redact.ts). */
export const rememberedAsTheyAre = (): readonly string[] => rememberedCredentials;
