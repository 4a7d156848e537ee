// Per-target request patches: extra headers and body fields that one target needs (a beta header, a provider
// routing block). They are applied to the options of ONE attempt, so they follow their target and never reach another.
import type { Api, Model, SimpleStreamOptions } from "@mariozechner/pi-ai";
import { rememberBodyCredentials, rememberCredentials } from "../state/redact.ts";

export interface RequestPatch {
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Objects merge key by key (so a patch can add to `provider` without dropping what pi-ai set); anything else replaces. */
export function mergeBody(payload: unknown, patch: Record<string, unknown>): unknown {
  if (!isPlainObject(payload)) return payload;
  const merged: Record<string, unknown> = { ...payload };
  for (const [key, value] of Object.entries(patch)) {
    merged[key] = isPlainObject(value) && isPlainObject(merged[key]) ? mergeBody(merged[key], value) : value;
  }
  return merged;
}

/** The attempt's options with the patch applied on top of the target's own credentials headers. */
export function applyRequestPatch(options: SimpleStreamOptions, patch: RequestPatch | undefined): SimpleStreamOptions {
  if (!patch || (!patch.headers && !patch.body)) return options;
  const result: SimpleStreamOptions = { ...options };
  if (patch.headers) {
    // A token the routes file sends in a header (by its name: private-token, x-auth-token...; or by its shape: a
    // `Bearer ...` value, a long opaque token) is redacted verbatim from then on, like the keys pi resolves: a
    // provider may quote it back in an error.
    rememberCredentials(undefined, patch.headers);
    result.headers = { ...options.headers, ...patch.headers };
  }
  const body = patch.body;
  if (body) {
    // So is a body field named as a credential (`api_key`, `auth_token`, at any depth): an upstream may echo its body.
    rememberBodyCredentials(body);
    const previous = options.onPayload;
    result.onPayload = async (payload: unknown, model: Model<Api>) => {
      const changed = previous ? await previous(payload, model) : undefined;
      return mergeBody(changed === undefined ? payload : changed, body);
    };
  }
  return result;
}
