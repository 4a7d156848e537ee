// What a target's own settings will do to the attempts on it (retries, request patches), as candidate reasons, so
// explain and the candidates event show them. Names only, never values: a header value may be a secret.
import type { TargetConfig } from "../config/schema.ts";

export function targetSettingsNotes(target: TargetConfig): string[] {
  const notes: string[] = [];
  const retry = target.retryBeforeFailover;
  if (retry)
    notes.push(
      `retries up to ${retry.times}x on ${(retry.kinds ?? ["rate_limit", "overloaded", "server"]).join("/")} before failing over`,
    );
  const patched = [
    ...Object.keys(target.headers ?? {}).map((name) => `header ${name}`),
    ...Object.keys(target.body ?? {}).map((field) => `body.${field}`),
  ];
  if (patched.length) notes.push(`request patch: ${patched.join(", ")}`);
  return notes;
}
