// The one guard for "an object with string keys" (not null, not an array), for code that reads untyped input: config
// files, state files, logged events, pi's messages.
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
