// The key of one encrypted reasoning item: a short hash of its encrypted content. A stateless client may send the
// item back without its id (the Codex CLI leaves every item id out), but always with the encrypted content it got.
import { createHash } from "node:crypto";

/** 128 bits of SHA-256, base64url: unique among any number of items a gateway could remember. */
export const reasoningKey = (encryptedContent: string): string =>
  createHash("sha256").update(encryptedContent).digest("base64url").slice(0, 22);
