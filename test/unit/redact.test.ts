import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  forgetRememberedCredentials,
  pinCredential,
  REDACTED,
  redactDeep,
  redactedJson,
  redactKeys,
  redactText,
  rememberBodyCredentials,
  rememberCredentials,
} from "../../src/state/redact.ts";
import { isCredentialValue } from "../../src/state/remembered-credentials.ts";

// Fake credentials are assembled at run time so no key-shaped literal sits in the repository for scanners to flag.
const ALPHANUMERIC = "aB3dE5gH7jK9mN1pQ2sT4vW6yZ8cF0hL";
function fake(prefix: string, length: number, alphabet = ALPHANUMERIC): string {
  let body = "";
  for (let index = 0; body.length < length; index += 1) body += alphabet[(index * 7) % alphabet.length];
  return prefix + body;
}
const HEX = "0123456789abcdef";

function assertRedacted(input: string, secret: string): string {
  const output = redactText(input);
  assert.ok(!output.includes(secret), `secret survived in: ${output}`);
  assert.ok(output.includes(REDACTED), `no redaction marker in: ${output}`);
  return output;
}

describe("redactText: model ids that look like key prefixes", () => {
  it("keeps xai-, hf_ and AKIA-like words that are no keys", () => {
    const text = "xai-grok-4-fast-reasoning failed; see hf_hub docs; AKIAXYZ is short";
    assert.equal(redactText(`${text} token=`), `${text} token=`);
  });
});

describe("redactText: provider keys", () => {
  const keys: Array<[string, string]> = [
    ["OpenAI project key", fake("sk-proj-", 48)],
    ["OpenAI legacy key", fake("sk-", 48)],
    ["Anthropic API key", fake("sk-ant-api03-", 80)],
    ["Anthropic OAuth token", fake("sk-ant-oat01-", 80)],
    ["Google API key", fake("AIza", 35)],
    ["OpenRouter key", fake("sk-or-v1-", 64, HEX)],
    ["DeepSeek key", fake("sk-", 32, HEX)],
    ["GitHub classic token", fake("ghp_", 36)],
    ["GitHub OAuth token", fake("gho_", 36)],
    ["GitHub fine-grained token", fake("github_pat_11", 70)],
    ["Groq key", fake("gsk_", 52)],
    ["xAI key", fake("xai-", 80)],
    ["Perplexity key", fake("pplx-", 48)],
    ["Hugging Face token", fake("hf_", 34)],
    ["NVIDIA key", fake("nvapi-", 64)],
    ["Replicate token", fake("r8_", 37)],
    ["AWS access key id", fake("AKIA", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")],
  ];
  for (const [name, key] of keys) {
    it(`replaces a ${name} inside a sentence and keeps the surrounding words`, () => {
      const output = assertRedacted(`request failed with key ${key} for provider`, key);
      assert.equal(output, `request failed with key ${REDACTED} for provider`);
    });
  }

  it("replaces a JWT made of two base64url JSON parts and a signature", () => {
    const jwt = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${fake("", 43)}`;
    assert.equal(redactText(`session ${jwt} expired`), `session ${REDACTED} expired`);
  });
});

describe("redactText: credentials identified by their context", () => {
  it("replaces a URL's password and keeps its user, host and an already masked one", () => {
    assert.equal(
      redactText("state.url is redis://ops:Team-Passw0rd@127.0.0.1:6380/0 (unreachable)"),
      "state.url is redis://ops:[REDACTED]@127.0.0.1:6380/0 (unreachable)",
    );
    assert.equal(
      redactText('{"url":"rediss://:pw-only-1@cache.internal/0"}'),
      '{"url":"rediss://:[REDACTED]@cache.internal/0"}',
    );
    assert.equal(redactText("redis://:***@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
    assert.equal(redactText("redis://h:6379/0?password=***"), "redis://h:6379/0?password=***");
    assert.equal(redactText("redis://h:6379/0?password=hunter2"), `redis://h:6379/0?password=${REDACTED}`);
    assert.equal(
      redactText("mail bob@example.com or see https://example.com/a@b"),
      "mail bob@example.com or see https://example.com/a@b",
    );
  });

  it("keeps the word Bearer and replaces the token after it", () => {
    const token = fake("", 40);
    assert.equal(redactText(`sent Bearer ${token} upstream`), `sent Bearer ${REDACTED} upstream`);
  });

  it("replaces the value of an Authorization header, keeping its scheme", () => {
    assert.equal(redactText("Authorization: Basic dXNlcjpwYXNzd29yZA=="), `Authorization: Basic ${REDACTED}`);
    assert.equal(redactText("authorization: opaque-value-1"), `authorization: ${REDACTED}`);
  });

  it("replaces x-api-key header values in header and JSON forms", () => {
    assert.equal(redactText("x-api-key: abc123def"), `x-api-key: ${REDACTED}`);
    assert.equal(
      redactText('{"x-api-key":"abc123def","accept":"json"}'),
      `{"x-api-key":"${REDACTED}","accept":"json"}`,
    );
    assert.equal(redactText('{"Authorization": "Bearer abc123def"}'), `{"Authorization": "Bearer ${REDACTED}"}`);
  });

  it("replaces secret URL query parameters and keeps the others", () => {
    const key = fake("AIza", 35);
    assert.equal(
      redactText(`https://example.test/v1/models/gemini:stream?key=${key}&alt=sse`),
      `https://example.test/v1/models/gemini:stream?key=${REDACTED}&alt=sse`,
    );
    assert.equal(
      redactText("https://example.test/a?model=gpt-5.5&access_token=abc&sig=xyz"),
      `https://example.test/a?model=gpt-5.5&access_token=${REDACTED}&sig=${REDACTED}`,
    );
  });

  it("replaces field assignments such as password= and api_key:", () => {
    assert.equal(redactText("password=hunter2 and api_key: abc"), `password=${REDACTED} and api_key: ${REDACTED}`);
  });

  it("replaces a long high-entropy value that follows the word key or token", () => {
    const opaque = fake("", 32);
    assert.equal(redactText(`the key is ${opaque}`), `the key is ${REDACTED}`);
    assert.equal(redactText(`token=${opaque}`), `token=${REDACTED}`);
  });

  it("keeps a config path and its validation message, and still replaces the value of a header or field", () => {
    const issues = [
      "auto-router.routes.json:5:3 at routes.main.targets[0].headers.x-auth-token: Invalid input: expected string, received number",
      "routes.main.targets[0].headers.Authorization: Authorization: credentials come from pi's login (/login, auth.json)",
      "targets[1].headers.x-api-key: expected string, received number",
      "state.password: unknown key",
    ];
    for (const issue of issues) assert.equal(redactText(issue), issue);
    const key = fake("sk-proj-", 48);
    assert.equal(redactText(`Authorization: Bearer ${key}`), `Authorization: Bearer ${REDACTED}`);
    assert.equal(
      redactText(`request.headers.Authorization: Bearer ${key}`),
      `request.headers.Authorization: Bearer ${REDACTED}`,
    );
    assert.equal(redactText("sent x-auth-token: abc123def upstream"), `sent x-auth-token: ${REDACTED} upstream`);
    assert.equal(redactText("db.password=hunter2"), `db.password=${REDACTED}`);
  });

  it("keeps a path's last segment and a validation message after a field name, and still replaces a lone word", () => {
    const texts = [
      "no endpoint GET /v1/secret: no provider advertises it",
      "field client_secret: must be a string; api_key: missing from body",
      "password: is required",
    ];
    for (const text of texts) assert.equal(redactText(text), text);
    // One word after the name may be the password itself, whatever it is; so is a word quoted or after "=".
    assert.equal(redactText("password: missing"), `password: ${REDACTED}`);
    assert.equal(redactText("password=must be"), `password=${REDACTED} be`);
    assert.equal(redactText("api_key: 'missing' from body"), `api_key: '${REDACTED}' from body`);
    assert.equal(redactText("client_secret: hunter2 was sent"), `client_secret: ${REDACTED} was sent`);
  });

  it("replaces every value of a Cookie header", () => {
    assert.equal(redactText("Cookie: session=abc; other=def"), `Cookie: ${REDACTED}`);
  });
});

describe("redactText: OpenAI's refusal of another account's encrypted reasoning", () => {
  it("replaces the part of the encrypted content it quotes, in its text and in its JSON body", () => {
    assert.equal(
      redactText("400 The encrypted content gAAA...DQ== could not be verified."),
      `400 The encrypted content ${REDACTED} could not be verified.`,
    );
    assert.equal(
      redactText(
        "400 The encrypted content gAAA...out. could not be verified. Reason: Encrypted content could not be decrypted or parsed.",
      ),
      `400 The encrypted content ${REDACTED} could not be verified. Reason: Encrypted content could not be decrypted or parsed.`,
    );
    assert.equal(
      redactText(
        '{"error":{"message":"The encrypted content gAAA...DQ== could not be verified.","code":"invalid_encrypted_content"}}',
      ),
      `{"error":{"message":"The encrypted content ${REDACTED} could not be verified.","code":"invalid_encrypted_content"}}`,
    );
  });

  it("leaves other words about encrypted content alone", () => {
    for (const text of ["Encrypted content could not be decrypted or parsed.", "the encrypted content is kept"])
      assert.equal(redactText(text), text);
  });
});

describe("redactText: ordinary text is left alone", () => {
  const ordinary = [
    "moved the task-list to a risk-free place; ask-me-anything mode",
    "routed to claude-sonnet-4-6 then gpt-5.5 and gemini-2.5-pro",
    "request 123e4567-e89b-12d3-a456-426614174000 finished in 1234 ms",
    "wrote /home/user/.pi/agent/extensions/auto-router.usage.json",
    "max_tokens=4096 tokens: 1234 input_tokens 99",
    "Bearer authentication is described in RFC 6750",
    "key: 123e4567-e89b-12d3-a456-426614174000",
    "sk-learn and sk-some-long-hyphenated-identifier-name",
    "the cache key is anthropic/claude-sonnet-4-6",
    "https://example.test/a?model=gpt-5.5&monkey=1&alt=sse",
    "eyJ alone is not a token, nor is eyJabc.def",
    "short",
  ];
  for (const text of ordinary) {
    it(`does not change: ${text}`, () => {
      assert.equal(redactText(text), text);
    });
  }
});

describe("redactDeep", () => {
  it("redacts strings nested in objects and arrays without touching numbers or the input", () => {
    const key = fake("sk-ant-api03-", 40);
    const input = { message: `bad ${key}`, nested: { list: [key, 3], tokens: 12 }, ok: true };
    const output = redactDeep(input);
    assert.deepEqual(output, { message: `bad ${REDACTED}`, nested: { list: [REDACTED, 3], tokens: 12 }, ok: true });
    assert.equal(input.message, `bad ${key}`);
  });

  it("replaces values of secret-named keys whatever they look like", () => {
    const output = redactDeep({
      authorization: "Bearer x",
      "x-api-key": "short",
      api_key: "a",
      apiKey: "b",
      token: "c",
      access_token: "d",
      refresh_token: "e",
      secret: "f",
      password: "g",
      cookie: "h",
      model: "gpt-5.5",
    });
    for (const [key, value] of Object.entries(output)) {
      if (key === "model") assert.equal(value, "gpt-5.5");
      else assert.equal(value, REDACTED, key);
    }
  });

  it("redacts serialisable objects, errors and cycles into safe JSON", () => {
    const key = fake("AIza", 35);
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const output = redactDeep({
      url: new URL(`https://example.test/?key=${key}`),
      error: new Error(`failed for ${key}`),
      cyclic,
    });
    const text = JSON.stringify(output);
    assert.ok(!text.includes(key));
    assert.match(text, /"self":"\[Circular\]"/);
    assert.match(text, /"error":\{"name":"Error","message":"failed for \[REDACTED\]"\}/);
  });
});

describe("redactedJson", () => {
  it("writes the same JSON as stringifying a redactDeep copy, for secrets in strings, secret keys, errors, URLs and cycles", async () => {
    const { redactedJson, redactDeep } = await import("../../src/state/redact.ts");
    const key = ["sk", "proj", "Q3mT8vLr2WbN7kJd4Hs9Pq1Yc6Fa0Ue5"].join("-");
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const values: unknown[] = [
      {
        message: `429 for ${key}`,
        nested: [{ text: `Bearer ${key}` }],
        plain: "anthropic/claude-sonnet-4-6",
        n: 3,
        ok: true,
        none: null,
      },
      { headers: { authorization: ["Bearer abc.def", { inner: "x" }], "x-api-key": key, other: "fine" } },
      {
        error: new Error(`failed with ${key}`),
        url: new URL(`https://h.invalid/v1?key=${key}&alt=sse`),
        at: new Date(0),
      },
      cyclic,
      "just a string with key=" + key,
      // JSON text escapes quotes and line breaks: the one-pass check over it must still see these.
      { message: `token\n:\t${key.slice(3)}` },
      { quoted: `"password": "${key.slice(3)}"` },
      { vertical: `secret\u000b= ${key.slice(3)}` },
      {
        inputTokens: 12,
        key: "anthropic/claude-sonnet-4-6",
        tokens: [1, 2],
        reasons: ["sorted by config"],
        at: "2026-11-29T08:00:00.000Z",
      },
    ];
    for (const value of values) assert.equal(redactedJson(value), JSON.stringify(redactDeep(value)));
    assert.ok(!redactedJson(values[0]).includes(key));
  });
});

describe("credentials the router resolved itself", () => {
  // Shapes no pattern knows: an Azure-style 32-hex key and a self-hosted key. Built at run time.
  const AZURE_KEY = ["3f9a1c7e", "5b2d4f60", "8e1a9c3b", "7d5f2e41"].join("");
  const SELF_HOSTED = ["team", "gateway", "Qm7vXw2p"].join("-");
  afterEach(() => forgetRememberedCredentials());

  it("replaces a remembered key verbatim in any text, in addition to the patterns", () => {
    assert.equal(redactText(`401 bad key ${AZURE_KEY}`), `401 bad key ${AZURE_KEY}`, "unknown before it is remembered");
    rememberCredentials(AZURE_KEY, {
      "x-custom-auth": `Token ${SELF_HOSTED}`,
      "anthropic-version": "2023-06-01-preview",
    });
    assert.equal(redactText(`401 bad key ${AZURE_KEY} and ${SELF_HOSTED}`), `401 bad key ${REDACTED} and ${REDACTED}`);
    assert.equal(
      redactText("version 2023-06-01-preview"),
      "version 2023-06-01-preview",
      "non-credential headers are not remembered",
    );
  });

  it("redacts remembered keys in JSON written through redactedJson and redactDeep", () => {
    rememberCredentials(AZURE_KEY);
    assert.equal(redactedJson({ message: `echo ${AZURE_KEY}` }), JSON.stringify({ message: `echo ${REDACTED}` }));
    const quoted = `${SELF_HOSTED}"q\\`;
    rememberCredentials(quoted);
    assert.equal(
      redactedJson({ message: `echo ${quoted}` }),
      JSON.stringify({ message: `echo ${REDACTED}` }),
      "a key with a quote and a backslash, escaped in JSON",
    );
    assert.deepEqual(redactDeep({ list: [AZURE_KEY] }), { list: [REDACTED] });
  });

  it("keeps a pinned credential (the gateway token) and forgets the oldest others first, whatever their length", () => {
    pinCredential(SELF_HOSTED);
    rememberCredentials(AZURE_KEY); // the longest, and the oldest of the others
    for (let index = 0; index < 300; index++) rememberCredentials(`rotating-token-${String(index).padStart(4, "0")}`);
    assert.equal(redactText(`denied ${SELF_HOSTED}`), `denied ${REDACTED}`, "the pinned token stays");
    assert.equal(redactText(`bad ${AZURE_KEY}`), `bad ${AZURE_KEY}`, "the oldest resolved key is forgotten");
    assert.equal(redactText("old rotating-token-0299"), `old ${REDACTED}`, "the newest ones stay");
  });

  it("remembers a header value that is a credential by its shape, whatever the header's name", () => {
    const bearer = fake("hdr", 24);
    const opaque = fake("", 32, HEX);
    rememberCredentials(undefined, {
      "X-Custom-Bearer": `Bearer ${bearer}`,
      "X-Tenant-Ref": opaque,
      "X-Bot": `bot ${SELF_HOSTED}`,
    });
    assert.equal(redactText(`echo: ${bearer} / ${opaque}`), `echo: ${REDACTED} / ${REDACTED}`);
    assert.equal(redactText(`echo: bot ${SELF_HOSTED}`), `echo: ${REDACTED}`, "with its scheme, any case");
    assert.equal(redactText(`just ${SELF_HOSTED}`), `just ${REDACTED}`, "and without it");
  });

  it("leaves ordinary header values alone: content types, versions, beta flags, ids, model ids", () => {
    const ordinary = {
      accept: "application/json",
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "prompt-caching-2024-07-31,fine-grained-tool-streaming-2025-05-14",
      "x-request-id": "0b9c2a5e-7d41-4f8a-9c3b-2e6f1a7d5c40",
      "x-model": "anthropic/claude-sonnet-4-20250514",
      "x-title": "My Team Assistant Workspace",
      "x-client": "pi-auto-router-0.1.0",
    };
    for (const value of Object.values(ordinary)) assert.equal(isCredentialValue(value), false, value);
    rememberCredentials(undefined, ordinary);
    const text = Object.values(ordinary).join(" ");
    assert.equal(redactText(text), text);
  });

  it("remembers the strings a target's extra body sends under a credential's name, at any depth", () => {
    const field = fake("body", 24);
    const nested = fake("nest", 24);
    rememberBodyCredentials({
      api_key_field: field,
      auth: { user: "operator-account-name", tokens: [nested] },
      provider: { order: ["fireworks-and-together"] },
      max_tokens: 4096,
    });
    assert.equal(redactText(`echo ${field} ${nested}`), `echo ${REDACTED} ${REDACTED}`);
    assert.equal(redactText("user operator-account-name"), `user ${REDACTED}`, "every string below a credential field");
    assert.equal(redactText("order fireworks-and-together"), "order fireworks-and-together", "other fields stay");
  });

  it("takes a remembered credential out of a URL as it is and percent-encoded, and keeps a pre-signed query", () => {
    const slashed = `${SELF_HOSTED}/x+y=`;
    rememberCredentials(AZURE_KEY, { "X-Custom-Bearer": `Bearer ${slashed}` });
    const signed = "https://files.example/b/o?sig=presigned0123456789abcdefXYZ&token=storageTokenAbc123456789&se=2026";
    assert.equal(redactKeys(signed), signed);
    assert.equal(
      redactKeys(`https://x.example/cb?token=${AZURE_KEY}&next=1`),
      `https://x.example/cb?token=${REDACTED}&next=1`,
    );
    assert.equal(
      redactKeys(
        `https://x.example/cb?key=${encodeURIComponent(slashed)}&sig=a%2Bb#at=Bearer+${encodeURIComponent(slashed)}`,
      ),
      `https://x.example/cb?key=${REDACTED}&sig=a%2Bb#at=${REDACTED}`,
    );
    assert.equal(
      redactKeys(`/v1/${encodeURIComponent(slashed)}/files?q=a%20b`),
      `/v1/${REDACTED}/files?q=a%20b`,
      "a path segment, relative",
    );
  });

  it("does not remember short placeholder keys, which would garble ordinary text", () => {
    rememberCredentials("ollama", { authorization: "Bearer none" });
    assert.equal(redactText("ollama answered: none of the models"), "ollama answered: none of the models");
  });
});
