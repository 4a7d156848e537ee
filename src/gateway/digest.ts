// One-shot hashing for the gateway's per-request digests (the token check, the prompt identity). crypto.hash (Node
// 20.12 and later) hashes without building a Hash object, about half the cost of createHash for short text; the
// older Node 20 releases the package still supports fall back to createHash.
import * as crypto from "node:crypto";

type OneShot = (algorithm: string, data: string, outputEncoding: string) => Buffer | string;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

export function digest(algorithm: "sha1" | "sha256", text: string): Buffer;
export function digest(algorithm: "sha1" | "sha256", text: string, encoding: "base64url" | "hex"): string;
export function digest(algorithm: "sha1" | "sha256", text: string, encoding?: "base64url" | "hex"): Buffer | string {
  if (oneShot) return oneShot(algorithm, text, encoding ?? "buffer");
  const hash = crypto.createHash(algorithm).update(text);
  return encoding ? hash.digest(encoding) : hash.digest();
}
