// Credentials the router resolved itself. A self-hosted key or an Azure-style 32-hex key matches no pattern of
// redact.ts, and a provider may echo it back in an error: every key and credential header value the router resolves
// for a target is remembered here and replaced verbatim. This list is the redactor's one piece of state.

/** Shorter values ("ollama", "none", "x") are placeholders, and replacing them would garble ordinary text. */
export const MIN_REMEMBERED_CREDENTIAL_LENGTH = 12;
/** A bound on memory: a process resolves a handful of keys; rotating OAuth tokens add a few per hour. */
const MAX_REMEMBERED_CREDENTIALS = 256;
/** Header names whose values are credentials (Authorization, x-api-key, api-key, X-Auth-Token, cookies...). */
const CREDENTIAL_HEADER_NAME = /auth|key|token|secret|cookie|signature|password/i;

/** Whether a header of this name carries a credential (its value is a secret; a client's is never forwarded). */
export const isCredentialHeaderName = (name: string): boolean => CREDENTIAL_HEADER_NAME.test(name);
/** Resolved credentials, oldest first: the oldest is forgotten when the bound is reached. */
const recent: string[] = [];
/** Credentials that are never forgotten (the gateway's own token). */
const pinned = new Set<string>();
/** Every remembered credential, longest first, so a value that contains another is replaced whole. */
let rememberedCredentials: string[] = [];
/** The same credentials as they appear inside JSON text (a quote or backslash in one is escaped there). */
let rememberedInJson: string[] = [];
/** Both spellings, longest first: what an answer to a client is scrubbed of (an answer is JSON, or text). */
let answerSecrets: string[] = [];

function refresh(): void {
  rememberedCredentials = [...new Set([...pinned, ...recent])].sort((a, b) => b.length - a.length);
  rememberedInJson = rememberedCredentials.map((credential) => JSON.stringify(credential).slice(1, -1));
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

/** Remembers a target's resolved API key and credential header values (with and without their auth scheme). */
export function rememberCredentials(
  apiKey: string | undefined,
  headers?: Record<string, string | null | undefined>,
): void {
  rememberCredential(apiKey);
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!value || !CREDENTIAL_HEADER_NAME.test(name)) continue;
    rememberCredential(value);
    rememberCredential(/^\s*\S+\s+(\S+)\s*$/.exec(value)?.[1]);
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

export function holdsRememberedCredential(text: string): boolean {
  for (const secret of rememberedCredentials) if (text.includes(secret)) return true;
  return false;
}

export function holdsRememberedCredentialInJson(text: string): boolean {
  for (const secret of rememberedInJson) if (text.includes(secret)) return true;
  return false;
}

export function replaceRememberedCredentials(text: string, replacement: string): string {
  let result = text;
  for (const secret of rememberedCredentials)
    if (result.includes(secret)) result = result.split(secret).join(replacement);
  return result;
}
