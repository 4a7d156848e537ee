// Secret redaction for everything the extension writes or forwards (event log, warnings, cooldowns, health, errors
// passed through to pi, exported reports). No I/O; its one piece of state is the list of credentials the router
// resolved itself (remembered-credentials.ts). Patterns are deliberately anchored on provider key prefixes or on an explicit
// "key/token/secret" context, so ordinary text ("task-list", "risk-free", "claude-sonnet-4-6", UUID request ids,
// paths) is left alone.
import {
  holdsRememberedCredential,
  holdsRememberedCredentialInJson,
  rememberedAsTheyAre,
  replaceEncodedRememberedCredentials,
} from "./remembered-credentials.ts";
import { REDACTED, TextScrub } from "./secret-scan.ts";

export {
  forgetRememberedCredentials,
  pinCredential,
  rememberBodyCredentials,
  rememberCredentials,
} from "./remembered-credentials.ts";

export { REDACTED } from "./secret-scan.ts";
/** A password already masked, as the team settings show a redis URL's (team-settings.ts): it stays as it is. */
const MASKED = "***";

/** Below this length no secret pattern can match, so the regex pass is skipped. */
const MINIMUM_SECRET_LENGTH = 8;

// Characters that may continue a key; used as look-around so a pattern never starts or ends inside a longer word.
const KEY_CHARACTER = "[A-Za-z0-9_-]";

type Replacement = { pattern: RegExp; replace: (match: string, ...groups: string[]) => string };

/** Known provider key and token shapes. Order matters: most specific first. */
const PROVIDER_KEY_PATTERNS: RegExp[] = [
  // Anthropic: sk-ant-api03-..., sk-ant-oat01-... (OAuth), sk-ant-admin01-...
  new RegExp(`(?<!${KEY_CHARACTER})sk-ant-[A-Za-z0-9_-]{10,}`, "g"),
  // OpenRouter: sk-or-v1-<64 hex>
  new RegExp(`(?<!${KEY_CHARACTER})sk-or-(?:v\\d+-)?[A-Za-z0-9]{16,}`, "g"),
  // OpenAI project / service-account / admin keys: sk-proj-..., sk-svcacct-..., sk-admin-...
  new RegExp(`(?<!${KEY_CHARACTER})sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{16,}`, "g"),
  // Legacy OpenAI (sk-<48 base62>) and DeepSeek (sk-<32 hex>): random, so at least one digit is required;
  // that keeps long hyphenated words such as "sk-some-very-long-identifier-name" intact.
  new RegExp(`(?<!${KEY_CHARACTER})sk-(?=[A-Za-z0-9_-]*\\d)[A-Za-z0-9_-]{20,}`, "g"),
  // Google API keys: AIza + 35 characters
  new RegExp(`(?<!${KEY_CHARACTER})AIza[0-9A-Za-z_-]{35,}`, "g"),
  // Groq (gsk_), xAI (xai-), Perplexity (pplx-), Hugging Face (hf_), NVIDIA (nvapi-), Replicate (r8_): a fixed prefix and
  // a long random tail without hyphens, so model ids such as "xai-grok-4" stay intact.
  new RegExp(`(?<!${KEY_CHARACTER})(?:gsk_|xai-|pplx-|hf_|nvapi-|r8_)[A-Za-z0-9]{20,}`, "g"),
  // AWS access key ids (long-term AKIA, temporary ASIA), as Bedrock errors may quote them
  new RegExp(`(?<!${KEY_CHARACTER})(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])`, "g"),
  // GitHub: classic personal, OAuth, user-to-server, server-to-server, refresh tokens; fine-grained PATs
  new RegExp(`(?<!${KEY_CHARACTER})gh[pousr]_[A-Za-z0-9]{30,}`, "g"),
  new RegExp(`(?<!${KEY_CHARACTER})github_pat_[A-Za-z0-9_]{22,}`, "g"),
  // JWT: header.payload.signature, both first parts base64url JSON objects ("eyJ" = '{"')
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g,
];

/** Header names whose whole value is a credential. */
const SECRET_HEADER_NAMES = "proxy-authorization|authorization|x-api-key|x-goog-api-key|api-key";
const AUTH_SCHEME = "(?:Bearer|Basic|Token|Digest|OAuth)";
/** Field names whose value is a credential whatever it looks like (snake, camel and kebab spellings). */
const SECRET_FIELD_NAMES =
  "api[_-]?key|apikey|access[_-]?token|accesstoken|refresh[_-]?token|refreshtoken|id[_-]?token|client[_-]?secret|" +
  "clientsecret|secret[_-]?key|secret|password|passwd|auth[_-]?token|session[_-]?token|private[_-]?key";
/** Ambiguous words ("key", "token"): only an opaque, high-entropy value after them is treated as a secret. */
const CONTEXT_WORDS = "key|token";
const QUERY_PARAMETER_NAMES =
  "key|api_key|api-key|apikey|token|access_token|refresh_token|id_token|secret|client_secret|sig|signature|password";

/** What may close a sentence or a bracket after a URL (`...&token=xyz).`); `!` and `?` may well end a password. */
const CLOSING_PUNCTUATION = ".,;:)]";
/** A value an earlier pattern replaced or the team settings masked, with the punctuation after it (`[REDACTED]).`). */
const REPLACED_ALREADY = /^(?:\[REDACTED\]|\*\*\*)[.,;:)\]]*$/;

/** The run of closing punctuation `value` ends in (a loop, not a regex: `[...]+$` is quadratic on a long run). */
function closingPunctuation(value: string): string {
  let start = value.length;
  while (start > 0 && CLOSING_PUNCTUATION.includes(value[start - 1]!)) start--;
  return value.slice(start);
}

/**
 * What stays of a value replaced at the end of a match: the closing punctuation a sentence or bracket put after it
 * (`Bearer xyz).`), when the match ends the text or comes before a space, a quote or an angle bracket; a value of
 * punctuation alone is replaced whole.
 */
function keptPunctuation(match: string, value: string, place: unknown[]): string {
  const after = endsUrl(match, place) ? closingPunctuation(value) : "";
  return after.length < value.length ? after : "";
}

/**
 * Whether a match ends the text or comes before a space, a quote or an angle bracket: where a URL ends in prose. Or
 * before a closing bracket, which only a value that cannot hold one (a bare Bearer token's, `token: ...`'s) ends at.
 */
function endsUrl(match: string, place: unknown[]): boolean {
  const end = (place.at(-1) as string)[(place.at(-2) as number) + match.length];
  return end === undefined || /[\s"'<>)\]]/.test(end);
}

/**
 * Whether a match is the end of a config path followed by its validation message (`...headers.x-auth-token: Invalid
 * input`, `...headers.Authorization: credentials come from pi's login`), not a header or field with its value: its name
 * is a dotted path's last segment, and a colon follows it. `place`: a replace callback's arguments after the groups.
 */
function inConfigPath(prefix: string, place: unknown[]): boolean {
  const offset = place.at(-2) as number;
  const text = place.at(-1) as string;
  if (!/^[^:=]*:\s*$/.test(prefix)) return false;
  let start = offset;
  while (start > 0 && /[A-Za-z0-9_-]/.test(text[start - 1]!)) start--;
  return text[start - 1] === ".";
}

/**
 * The words a validation message puts after a field's name (`api_key: missing from body`, `password: is required`):
 * only when more words follow (a sentence), unquoted, after a colon; `password: missing` alone stays redacted, as a
 * one-word password could be any word.
 */
const VALIDATION_WORDS =
  /^(?:must|is|are|was|were|missing|required|invalid|expected|should|not|cannot|can't|may|needs?|has|have|does|did|too|exceeds|unknown|wrong|incorrect|empty)$/i;

function saysWhatIsWrong(prefix: string, value: string, place: unknown[]): boolean {
  if (!/:\s*$/.test(prefix) || !VALIDATION_WORDS.test(value)) return false;
  const offset = place.at(-2) as number;
  const text = place.at(-1) as string;
  return /^ +[A-Za-z]/.test(text.slice(offset + prefix.length + value.length));
}

const CONTEXT_REPLACEMENTS: Replacement[] = [
  // JSON form: "x-api-key":"xxx", "Authorization": "Bearer xxx", "apiKey": "xxx"
  {
    pattern: new RegExp(
      `("(?:${SECRET_HEADER_NAMES}|cookie|set-cookie|${SECRET_FIELD_NAMES})"\\s*:\\s*")((?:[^"\\\\]|\\\\.)+)(")`,
      "gi",
    ),
    replace: (_match, prefix, value, suffix) => `${prefix}${redactCredentialValue(value)}${suffix}`,
  },
  // Cookie headers carry several "name=value; " pairs: the value runs to the end of the line.
  {
    pattern: /(?<![A-Za-z0-9_-])((?:set-)?cookie\s*:\s*)([^\r\n"]+)/gi,
    replace: (_match, prefix) => `${prefix}${REDACTED}`,
  },
  // Header form: "Authorization: Bearer xxx", "x-api-key: xxx" (optional scheme word, then one token; the closing
  // punctuation of a sentence after it stays).
  {
    pattern: new RegExp(
      `(?<![A-Za-z0-9_-])((?:${SECRET_HEADER_NAMES})\\s*[:=]\\s*)(${AUTH_SCHEME}\\s+)?([^\\s"',;}]+)`,
      "gi",
    ),
    replace: (match, prefix, scheme, ...place) =>
      REPLACED_ALREADY.test(place[0] as string) || inConfigPath(prefix, place)
        ? match
        : `${prefix}${scheme ?? ""}${REDACTED}${keptPunctuation(match, place[0] as string, place.slice(1))}`,
  },
  // Bare "Bearer <token>" anywhere (keep the word Bearer so the log still says what kind of credential it was; the
  // closing punctuation of a sentence after it stays).
  {
    pattern: /\b(Bearer\s+)([A-Za-z0-9._~+/=-]+)/g,
    replace: (match, prefix, token, ...place) =>
      isBearerToken(token) ? `${prefix}${REDACTED}${keptPunctuation(match, token, place)}` : match,
  },
  // A URL's password: redis://user:secret@host -> redis://user:[REDACTED]@host (the user name stays: it names an ACL
  // user or account, and says which credential it was).
  {
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@"'<>:]*:)([^\s/?#@"'<>]+)(@)/gi,
    replace: (match, prefix, password, at) => (password === MASKED ? match : `${prefix}${REDACTED}${at}`),
  },
  // URL query parameters: ?key=AIza...&alt=sse -> ?key=[REDACTED]&alt=sse (a redis URL's `?password=***`, masked as
  // the team settings show it, and a value an earlier pattern replaced stay as they are). A URL that ends a sentence
  // or a bracket (`...&token=xyz).`) keeps the punctuation after its last value: only the run at its very end, before
  // a space, a quote or the end of the text, not a value's punctuation in the middle (`?key=a.b&...`, `?sig=a).b`); a
  // value of punctuation alone is replaced whole.
  {
    pattern: new RegExp(`([?&](?:${QUERY_PARAMETER_NAMES})=)([^&#\\s"'<>]+)`, "gi"),
    replace: (match, prefix, value, ...place) =>
      REPLACED_ALREADY.test(value) ? match : `${prefix}${REDACTED}${keptPunctuation(match, value, place)}`,
  },
  // Field assignments in free text: api_key=xxx, password: xxx, client_secret = 'xxx' (a sentence's closing
  // punctuation after the value stays, as after a header's or a URL's). Not a path's last segment
  // (`GET /v1/secret: no provider...`), nor a validation message's word after a field name (`api_key: missing`,
  // `client_secret: must be a string`): those name a field, they do not hold its value.
  {
    pattern: new RegExp(`(?<![A-Za-z0-9/])((?:${SECRET_FIELD_NAMES})"?\\s*[:=]\\s*["']?)([^\\s"',;&}]+)`, "gi"),
    replace: (match, prefix, value, ...place) =>
      REPLACED_ALREADY.test(value) || inConfigPath(prefix, place) || saysWhatIsWrong(prefix, value, place)
        ? match
        : `${prefix}${REDACTED}${keptPunctuation(match, value, place)}`,
  },
  // OpenAI's refusal of reasoning another account encrypted quotes the encrypted content's first and last four
  // characters ("The encrypted content gAAA...DQ== could not be verified."): none of it is passed on.
  {
    pattern: /(\bencrypted content\s+)(\S+)(?=\s+could not be (?:verified|decrypted))/gi,
    replace: (_match, prefix) => `${prefix}${REDACTED}`,
  },
  // "key: <opaque>", "token=<opaque>", "key is <opaque>": only when the value looks like random credential material
  // (the closing punctuation of a sentence after it stays).
  {
    pattern: new RegExp(
      `(?<![A-Za-z0-9_])((?:${CONTEXT_WORDS})s?"?\\s*(?:[:=]|\\bis\\b)\\s*["']?)([A-Za-z0-9._~+/=-]{20,})`,
      "gi",
    ),
    replace: (match, prefix, value, ...place) =>
      isOpaqueToken(value) ? `${prefix}${REDACTED}${keptPunctuation(match, value, place)}` : match,
  },
];

/** Object keys whose string values are replaced wholesale by redactDeep (compared lowercased without - and _). */
const SECRET_OBJECT_KEYS = new Set([
  "authorization",
  "proxyauthorization",
  "xapikey",
  "xgoogapikey",
  "apikey",
  "token",
  "accesstoken",
  "refreshtoken",
  "idtoken",
  "authtoken",
  "sessiontoken",
  "secret",
  "clientsecret",
  "secretkey",
  "password",
  "passwd",
  "cookie",
  "setcookie",
  "privatekey",
]);

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isBearerToken(token: string): boolean {
  return (token.length >= 8 && /\d/.test(token)) || token.length >= 20;
}

/**
 * Random credential material: one unbroken run of at least 16 characters mixing letters and digits with high
 * character entropy. Identifiers such as "anthropic/claude-sonnet-4-6" or UUIDs only have short mixed segments.
 */
export function isOpaqueToken(value: string): boolean {
  if (value.length < 20 || UUID_PATTERN.test(value)) return false;
  return value
    .split(/[-_./:~+=]/)
    .some(
      (segment) =>
        segment.length >= 16 &&
        /[A-Za-z]/.test(segment) &&
        /\d/.test(segment) &&
        shannonEntropyBitsPerCharacter(segment) >= 3,
    );
}

function shannonEntropyBitsPerCharacter(value: string): number {
  const counts = new Map<string, number>();
  for (const character of value) counts.set(character, (counts.get(character) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const probability = count / value.length;
    entropy -= probability * Math.log2(probability);
  }
  return entropy;
}

/** Redacts a header/field value, keeping an auth scheme word ("Bearer", "Basic") so the log stays readable. */
function redactCredentialValue(value: string): string {
  const scheme = new RegExp(`^(\\s*${AUTH_SCHEME}\\s+)\\S`, "i").exec(value);
  return scheme ? `${scheme[1]}${REDACTED}` : REDACTED;
}

/**
 * Every pattern above needs one of these: a key prefix, a credential word, or OpenAI's words for encrypted content. A
 * string with none of them (model ids, reasons, route names: most of what the event log carries) skips the regex
 * passes; this matters because every event of every request is redacted.
 */
// The credential words only count when a value follows them (`key=`, `token: `, `"secret":`, `token is`), as in
// every context pattern: "per-token" or "API key" alone cannot hide a secret.
const MIGHT_HOLD_A_SECRET =
  /sk-|AIza|gsk_|xai-|pplx-|hf_|nvapi-|r8_|AKIA|ASIA|gh[pousr]_|github_pat_|eyJ|authori[sz]|bearer|encrypted content|(?:key|token|secret|passw(?:or)?d|cookie|sig(?:nature)?)s?"?\s*(?:[:=]|is\b)|:\/\/[^\s/@]*@/i;

export function redactText(text: string): string {
  if (text.length < MINIMUM_SECRET_LENGTH) return text;
  const remembered = holdsRememberedCredential(text);
  if (!remembered && !MIGHT_HOLD_A_SECRET.test(text)) return text;
  let result = remembered ? TextScrub.all(text, rememberedAsTheyAre()) : text;
  for (const pattern of PROVIDER_KEY_PATTERNS) result = result.replace(pattern, REDACTED);
  for (const { pattern, replace } of CONTEXT_REPLACEMENTS) {
    result = result.replace(pattern, replace as (substring: string, ...args: unknown[]) => string);
  }
  return result;
}

/**
 * Only the credentials the router resolved itself and known provider key shapes: for a URL the client must be able
 * to use as it is (a redirect's Location, whose pre-signed `sig=` or `signature=` is meant for the client). A
 * remembered credential is found as it is and percent-encoded in a path segment, query value or fragment
 * (`?token=abc%2Fdef%2B...`, a space as `%20` or `+`): that whole value is replaced.
 */
export function redactKeys(text: string): string {
  // Encoded values first: the start of one, unencoded, would be taken for a credential cut short.
  let result = /[%+]/.test(text) ? replaceEncodedRememberedCredentials(text, REDACTED) : text;
  if (holdsRememberedCredential(result)) result = TextScrub.all(result, rememberedAsTheyAre());
  for (const pattern of PROVIDER_KEY_PATTERNS) result = result.replace(pattern, REDACTED);
  return result;
}

/** Object keys repeat endlessly in the event log ("key", "reason", "data"...): remember each verdict. */
const secretKeyVerdicts = new Map<string, boolean>();
const MAX_REMEMBERED_KEYS = 1_000;

function isSecretObjectKey(key: string): boolean {
  let verdict = secretKeyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = SECRET_OBJECT_KEYS.has(key.toLowerCase().replace(/[-_]/g, ""));
    if (secretKeyVerdicts.size < MAX_REMEMBERED_KEYS) secretKeyVerdicts.set(key, verdict);
  }
  return verdict;
}

/**
 * Returns a copy with every string redacted, and string values under secret-named keys replaced wholesale.
 * Objects with toJSON (URL, Date) are redacted in their serialised form, Errors become {name, message},
 * and cycles become "[Circular]", so the result is always safe to JSON.stringify.
 */
export function redactDeep<T>(value: T): T {
  return redactValue(value, false, new WeakSet()) as T;
}

/**
 * JSON text of `value` with every string redacted, in one pass and without copying the value first (the event log
 * writes every event of every request through this). Same result as JSON.stringify(redactDeep(value)); a value with
 * a cycle takes that slower path, which writes "[Circular]".
 */
function redactingReplacer(key: string, child: unknown): unknown {
  if (typeof child === "string")
    return key !== "" && isSecretObjectKey(key) ? (child.length > 0 ? REDACTED : child) : redactText(child);
  if (key !== "" && child !== null && typeof child === "object" && isSecretObjectKey(key))
    return redactValue(child, true, new WeakSet());
  if (child instanceof Error) return { name: child.name, message: redactText(child.message) };
  return child;
}

/** Deeper than any event the router writes; beyond it (or on a cycle) the careful path is taken. */
const MAX_SCAN_DEPTH = 32;

/** True when some key is a secret key or some value needs converting (Error, toJSON): JSON text alone cannot tell. */
function needsCarefulPath(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (depth > MAX_SCAN_DEPTH) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (needsCarefulPath(item, depth + 1)) return true;
    return false;
  }
  if (value instanceof Error || typeof (value as { toJSON?: unknown }).toJSON === "function") return true;
  for (const key in value) {
    if (isSecretObjectKey(key) || needsCarefulPath((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/**
 * MIGHT_HOLD_A_SECRET over JSON text instead of one string: a quote inside a string is escaped there (`\"`), so a
 * JSON key such as `"inputTokens":` does not count as a credential word followed by a value, and whitespace may be
 * an escape (`\n`, `\u000b`).
 */
const JSON_MIGHT_HOLD_A_SECRET =
  /sk-|AIza|gsk_|xai-|pplx-|hf_|nvapi-|r8_|AKIA|ASIA|gh[pousr]_|github_pat_|eyJ|authori[sz]|bearer|encrypted content|(?:key|token|secret|passw(?:or)?d|cookie|sig(?:nature)?)s?(?:\\")?(?:\s|\\[nrtf]|\\u000b)*(?:[:=]|is\b)/i;

function jsonMightHoldSecret(text: string): boolean {
  if (JSON_MIGHT_HOLD_A_SECRET.test(text)) return true;
  return holdsRememberedCredentialInJson(text);
}

export function redactedJson(value: unknown): string {
  // Most events hold nothing that could be a secret. Their plain JSON text is checked in one regex pass: cheaper than
  // testing each string, and JSON.stringify keeps its fast path (a replacer function makes it several times slower).
  if (!needsCarefulPath(value, 0)) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      return JSON.stringify(redactDeep(value)); // a cycle
    }
    if (text === undefined || !jsonMightHoldSecret(text)) return text as string;
  }
  try {
    return JSON.stringify(value, redactingReplacer);
  } catch {
    return JSON.stringify(redactDeep(value));
  }
}

function redactValue(value: unknown, underSecretKey: boolean, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return underSecretKey && value.length > 0 ? REDACTED : redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, underSecretKey, seen));
    if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
    const withToJson = value as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === "function") return redactValue(withToJson.toJSON(), underSecretKey, seen);
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      result[key] = redactValue(child, underSecretKey || isSecretObjectKey(key), seen);
    }
    return result;
  } finally {
    seen.delete(value);
  }
}
