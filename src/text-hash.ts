// A cheap hash that tells texts apart (prompts, for the router's memory of them): no digest, no I/O.

/**
 * A 53-bit hash of `text` (cyrb53), skipping the characters from `skipFrom` to `skipTo`: it only tells prompts apart
 * (a collision makes two prompts share a target, which is harmless), so no cryptographic digest is needed, and it
 * costs a few nanoseconds per character where a digest's setup alone cost microseconds per request.
 */
export function textHash(text: string, skipFrom = text.length, skipTo = text.length): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    if (index === skipFrom) index = skipTo;
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** `text`'s hash over its first and last `edge` characters only (all of it when shorter than twice that). */
export function edgesHash(text: string, edge: number): string {
  return text.length > 2 * edge ? textHash(text, edge, text.length - edge) : textHash(text);
}
